"""Which process owns a TCP connection, and what processes use, from Linux's /proc (no psutil).

The chaos test must SIGKILL the very worker whose gateway call is being answered slowly; the
Stripe proxy knows the client's (host, port), and /proc maps that socket to its process:
/proc/net/tcp{,6} gives the socket's inode, /proc/<pid>/fd links to `socket:[<inode>]`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
TCP_ESTABLISHED = "01"


def process_group(pgid: int) -> list[int]:
    """The live processes (zombies included) whose process group is `pgid`."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # Fields after the command name, which may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def tcp_connection_owner(local_port: int, remote_port: int, pids: Iterable[int]) -> int | None:
    """The pid among `pids` holding the established TCP socket local_port → remote_port."""
    inode = _socket_inode(local_port, remote_port)
    if inode is None:
        return None
    link = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = PROC / str(pid) / "fd"
        try:
            for fd in os.listdir(fd_dir):
                if os.readlink(fd_dir / fd) == link:
                    return pid
        except OSError:
            continue  # ended, or not ours to read
    return None


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if (
                state == TCP_ESTABLISHED
                and _port(local) == local_port
                and _port(remote) == remote_port
            ):
                return inode
    return None


def _port(address: str) -> int:
    """`0100007F:1F90` → 8080."""
    return int(address.rpartition(":")[2], 16)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a live process has used so far; None once it has ended."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) of a live process, KiB; None once it has ended."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None

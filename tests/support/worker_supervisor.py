"""Runs `lineblocs-jobs worker <service>` processes as a container runtime would: restarts them.

Each worker is started in a session of its own, so its whole process tree (the `dramatiq`
master and the worker process it forks) is one process group: `kill()` SIGKILLs the group at
once, like a machine or container that dies, and the monitor thread starts a new incarnation
after `restart_delay_s` (`restart: unless-stopped`). Each incarnation logs to a file of its own.
An exit the test did not cause is recorded in `unexpected_exits`: a crash is a finding.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.proc_sockets import process_group

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
READY_LINE = "ready for action"  # dramatiq's worker process logs it once it consumes


def worker_argv(service: str, *, threads: int) -> list[str]:
    return [CLI, "worker", service, "--processes", "1", "--threads", str(threads)]


@dataclass
class _Worker:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    incarnation: int = 0
    killed: bool = False  # the current incarnation was SIGKILLed on purpose
    logs: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Exit:
    name: str
    incarnation: int
    returncode: int
    log: Path


class WorkerSupervisor:
    def __init__(self, *, log_dir: Path, restart_delay_s: float = 0.3) -> None:
        self._log_dir = log_dir
        self._restart_delay_s = restart_delay_s
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self.kills: list[str] = []
        self.restarts = 0
        self.unexpected_exits: list[Exit] = []

    def add(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self._workers[name] = _Worker(name, list(argv), dict(env))

    @property
    def names(self) -> list[str]:
        return list(self._workers)

    def start(self) -> None:
        with self._lock:
            for worker in self._workers.values():
                self._spawn(worker)
        self._monitor = threading.Thread(target=self._watch, daemon=True)
        self._monitor.start()

    def kill(self, name: str) -> list[int]:
        """SIGKILL every process of the worker's group now; returns the pids killed."""
        with self._lock:
            worker = self._workers[name]
            if worker.process is None or worker.process.poll() is not None:
                return []
            pids = process_group(worker.process.pid)
            worker.killed = True
            os.killpg(worker.process.pid, signal.SIGKILL)
            self.kills.append(name)
            return pids

    def pids(self, name: str) -> list[int]:
        """The live processes of the worker's current incarnation."""
        with self._lock:
            process = self._workers[name].process
            if process is None or process.poll() is not None:
                return []
            return process_group(process.pid)

    def master_pid(self, name: str) -> int | None:
        """The pid of the process started (the `dramatiq` master; the group's leader)."""
        with self._lock:
            process = self._workers[name].process
            return None if process is None else process.pid

    def all_pids(self) -> dict[int, str]:
        return {pid: name for name in self._workers for pid in self.pids(name)}

    def is_ready(self, name: str) -> bool:
        """The current incarnation runs and its worker process consumes."""
        with self._lock:
            worker = self._workers[name]
            if worker.process is None or worker.process.poll() is not None:
                return False
            log = worker.logs[-1]
        return READY_LINE in log.read_text(errors="replace")

    def wait_ready(self, name: str, *, timeout_s: float = 30.0) -> None:
        """Until the current incarnation's worker process consumes; raises after the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.is_ready(name):
                return
            time.sleep(0.1)
        raise TimeoutError(f"worker {name} not ready after {timeout_s}s:\n{self.log_tail(name)}")

    def wait_restarted(self, *, timeout_s: float = 30.0) -> bool:
        """Until every incarnation killed on purpose has been started again (the monitor does
        it `restart_delay_s` after the kill): a check of restarts must not race the monitor."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.restarts >= len(self.kills):
                    return True
            time.sleep(0.05)
        return False

    def stop(self, *, timeout_s: float = 30.0) -> None:
        """SIGTERM every worker (dramatiq finishes or requeues its messages), then SIGKILL."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join()
        with self._lock:
            running = [w.process for w in self._workers.values() if w.process is not None]
        for process in running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self, name: str, *, lines: int = 60) -> str:
        """The last lines of every incarnation's log, oldest incarnation first."""
        parts = []
        for log in self._workers[name].logs:
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def _spawn(self, worker: _Worker) -> None:
        worker.incarnation += 1
        log = self._log_dir / f"{worker.name}.{worker.incarnation}.log"
        worker.logs.append(log)
        with log.open("wb") as out:
            worker.process = subprocess.Popen(
                worker.argv,
                env=worker.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches its children
            )
        worker.killed = False

    def _watch(self) -> None:
        while not self._stopping.wait(0.05):
            with self._lock:
                for worker in self._workers.values():
                    self._restart_if_ended(worker)

    def _restart_if_ended(self, worker: _Worker) -> None:
        process = worker.process
        if process is None or process.poll() is None:
            return
        if not worker.killed:
            self.unexpected_exits.append(
                Exit(worker.name, worker.incarnation, process.returncode, worker.logs[-1])
            )
        # Whatever is left of the group (a worker child whose master died) goes too.
        for pid in process_group(process.pid):
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                os.kill(pid, signal.SIGKILL)
        time.sleep(self._restart_delay_s)
        self._spawn(worker)
        self.restarts += 1

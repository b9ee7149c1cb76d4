"""What every benchmark needs: RabbitMQ queues of its own, medians, tables, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pika
from dramatiq.common import dq_name, xq_name
from rich.console import Console
from rich.table import Table

from tests.support.proc_sockets import cpu_seconds, rss_kib
from tests.support.worker_supervisor import WorkerSupervisor

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306"

console = Console(width=130)


@dataclass
class Measurement:
    """One contender's runs: messages handled, wall-clock (and CPU) seconds of each run."""

    name: str
    messages: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages per second of the fastest run: other processes on the machine only ever
        slow a run down, so the fastest is the closest to what the code can do (as timeit)."""
        return self.messages / min(self.seconds)

    @property
    def median_rate(self) -> float:
        return statistics.median(self.messages / s for s in self.seconds)

    @property
    def cpu_us_per_message(self) -> float:
        return min(self.cpu_seconds) / self.messages * 1e6

    @property
    def runs(self) -> str:
        return " ".join(f"{self.messages / s / 1000:.1f}k" for s in self.seconds)


class BenchQueues:
    """Hands out queue names prefixed `bench.` and deletes them (with .DQ/.XQ) at the end."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self._names: list[str] = []

    def new(self, label: str) -> str:
        name = f"bench.{label}.{uuid.uuid4().hex[:8]}"
        self._names.append(name)
        return name

    def depth(self, name: str) -> int:
        with _channel(self.amqp_url) as channel:
            return int(channel.queue_declare(name, passive=True).method.message_count)

    def delete(self, name: str) -> None:
        with _channel(self.amqp_url) as channel:
            for queue in (name, dq_name(name), xq_name(name)):
                channel.queue_delete(queue)

    def delete_all(self) -> None:
        for name in self._names:
            self.delete(name)
        self._names.clear()


@contextmanager
def _channel(amqp_url: str) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        yield connection.channel()
    finally:
        connection.close()


def rabbitmq_version(amqp_url: str) -> str:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        # BlockingConnection does not expose the server's properties; its pika impl does.
        properties = connection._impl.server_properties or {}
    finally:
        connection.close()
    version = properties.get("version") or properties.get(b"version") or "?"
    return version.decode() if isinstance(version, bytes) else str(version)


def mariadb_version(mysql_url: str) -> str:
    try:
        import pymysql
        from sqlalchemy.engine import make_url

        url = make_url(mysql_url)
        conn = pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=url.username or "root",
            password=url.password or "",
            connect_timeout=3,
        )
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
        conn.close()
        return str(row[0]) if row else "?"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine_rows(amqp_url: str, mysql_url: str) -> list[tuple[str, str]]:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu),
        ("Memory (free -g)", "{} GiB total, {} GiB used".format(*memory.split()[1:3])),
        ("Python", platform.python_version()),
        ("RabbitMQ", rabbitmq_version(amqp_url)),
        ("MariaDB", mariadb_version(mysql_url)),
        ("Load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for n, header in enumerate(headers):
        table.add_column(header, justify="left" if n == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def verdict(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]NOT met[/red]"


def sample_rss(workers: WorkerSupervisor, peaks: dict[str, int]) -> None:
    """Raise `peaks` ("worker-1 master" -> KiB) to each worker process's resident memory now."""
    for name in workers.names:
        leader = workers.master_pid(name)
        for pid in workers.pids(name):
            kib = rss_kib(pid)
            if kib is not None:
                label = f"{name} {'master' if pid == leader else 'worker'}"
                peaks[label] = max(peaks.get(label, 0), kib)


# The servers sharing the machine's CPUs with the workers, by process name (/proc/<pid>/comm).
SERVERS = {"MariaDB": "mariadbd", "RabbitMQ": "beam.smp"}


def servers_cpu() -> dict[str, float | None]:
    """CPU seconds so far of each local server (all its processes); None when not found here."""
    totals: dict[str, float | None] = {}
    for name, command in SERVERS.items():
        pids = [d.name for d in Path("/proc").iterdir() if d.name.isdigit() and _comm(d) == command]
        times = [cpu_seconds(int(pid)) for pid in pids]
        totals[name] = sum(t or 0.0 for t in times) if pids else None
    return totals


def _comm(proc_dir: Path) -> str:
    try:
        return (proc_dir / "comm").read_text().strip()
    except OSError:
        return ""


def workers_cpu(workers: WorkerSupervisor) -> float:
    """CPU seconds used so far by every process of every worker (none restarts meanwhile)."""
    return sum(cpu_seconds(pid) or 0.0 for name in workers.names for pid in workers.pids(name))


def worker_env(database_url: str, amqp_url: str, threads: int, **extra: str) -> dict[str, str]:
    """A worker's environment as deployed (INFO, JSON lines), without Sentry or HTTP ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BRAINTREE_"))}
    env.update(
        ENVIRONMENT="development",
        DATABASE_URL=database_url,
        QUEUE_URL=amqp_url,
        WORKER_THREADS=str(threads),
        DB_POOL_SIZE=str(threads),
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
        HEALTH_PORT="0",
        METRICS_PORT="0",
        SENTRY_DSN="",
        **extra,
    )
    return env

"""`worker` and `scheduler`: check the environment, then become the dramatiq / periodiq process.

The process is replaced (exec), so signals from the container runtime reach dramatiq directly.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import typer

from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.db.revision import require_current
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.queue.broker import ping_broker
from lineblocs_shared.registry import ServiceSpec, get_service
from lineblocs_shared.settings import Settings, load_settings


def _checked(service: str) -> tuple[Settings, ServiceSpec]:
    settings = load_settings()
    spec = get_service(service)
    if settings.uses_embedded_broker:
        raise ConfigError(
            "a worker process needs RabbitMQ (QUEUE_URL=amqp://…); "
            "the embedded mode runs its workers in-process: use `lineblocs-jobs demo`"
        )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
        require_current(engine)  # a worker without our tables only looks healthy
    finally:
        engine.dispose()
    ping_broker(settings)
    return settings, spec


# Dramatiq keeps its Prometheus multiprocess files in `dramatiq_prom_db`, by default one
# `/tmp/dramatiq-prometheus` for every worker of the host, never cleared: a new worker then
# exposed the counts of others, dead or alive. Each worker gets a directory of its own instead.
PROM_DB_ENV = "dramatiq_prom_db"
PROCESS_CLI = "lineblocs_shared.queue.process_cli"
METRICS_ROOT = Path(tempfile.gettempdir()) / "lineblocs-jobs-metrics"


def metrics_directory(service: str, pid: int, *, root: Path = METRICS_ROOT) -> Path:
    """An empty directory for the metrics of the worker `pid` (the dramatiq master: exec keeps
    the pid), after removing those of workers that are gone."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        owner = old.name.rpartition("-")[2]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(old, ignore_errors=True)
    directory = root / f"{service}-{pid}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def dramatiq_argv(spec: ServiceSpec, *, processes: int, threads: int) -> list[str]:
    """The `dramatiq` command line of a service's worker (also shown in the README), through
    `process_cli`: dramatiq's own CLI, logging in our format in the master too."""
    return [
        sys.executable,
        "-m",
        PROCESS_CLI,
        "dramatiq",
        spec.worker_module,
        "--queues",
        *spec.queues,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]


# periodiq imports it after the worker module: it serves the scheduler's /livez and /readyz.
SCHEDULER_HEALTH_MODULE = "lineblocs_shared.queue.scheduler_health"


def periodiq_argv(spec: ServiceSpec) -> list[str]:
    """periodiq's command line, through `process_cli` (its logging in our format)."""
    return [
        sys.executable,
        "-m",
        PROCESS_CLI,
        "periodiq",
        spec.worker_module,
        SCHEDULER_HEALTH_MODULE,
    ]


def worker(
    service: str = typer.Argument(..., help="billing, maintenance or notifications"),
    processes: int | None = typer.Option(None, help="worker processes (WORKER_PROCESSES)"),
    threads: int | None = typer.Option(None, help="threads per process (WORKER_THREADS)"),
) -> None:
    """Run the service's Dramatiq worker on its own queues."""
    settings, spec = _checked(service)
    argv = dramatiq_argv(
        spec,
        processes=processes or settings.worker_processes,
        threads=threads or settings.worker_threads,
    )
    # The prefetch is the broker's own (`queue.prefetch.QueuePrefetch`, WORKER_PREFETCH).
    if PROM_DB_ENV not in os.environ:  # one set by the operator (or a test) is theirs to manage
        os.environ[PROM_DB_ENV] = str(metrics_directory(service, os.getpid()))
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours, no shell involved


def scheduler(
    service: str = typer.Argument(..., help="billing, maintenance or notifications"),
) -> None:
    """Run periodiq for the service: it enqueues the service's periodic actors on time."""
    _settings, spec = _checked(service)
    argv = periodiq_argv(spec)
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours, no shell involved

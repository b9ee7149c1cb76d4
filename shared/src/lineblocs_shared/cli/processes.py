"""`worker` and `scheduler`: check the environment, then become the dramatiq / periodiq process.

The process is replaced (exec), so signals from the container runtime reach dramatiq directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from lineblocs_shared.db import make_engine, ping
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
    finally:
        engine.dispose()
    ping_broker(settings)
    return settings, spec


def dramatiq_argv(spec: ServiceSpec, *, processes: int, threads: int) -> list[str]:
    """The `dramatiq` command line of a service's worker (also shown in the README)."""
    return [
        sys.executable,
        "-m",
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
    # periodiq has no __main__ module: run its console script from this environment.
    script = Path(sys.executable).with_name("periodiq")
    return [str(script), spec.worker_module, SCHEDULER_HEALTH_MODULE]


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
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours, no shell involved


def scheduler(
    service: str = typer.Argument(..., help="billing, maintenance or notifications"),
) -> None:
    """Run periodiq for the service: it enqueues the service's periodic actors on time."""
    _settings, spec = _checked(service)
    argv = periodiq_argv(spec)
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours, no shell involved

"""Start-up of a worker or scheduler process: settings, logging, Sentry, one engine, the broker.

Each service's `worker` module (the target of `dramatiq` and `periodiq`) calls
`bootstrap_process()` before importing its actors, builds its composition root on the runtime's
engine, and installs it where its actors find it (`ServiceRoot`). Dramatiq imports that module in
each worker process, never in its master, so each process gets its own engine and connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import dramatiq
from sqlalchemy import Engine

from lineblocs_shared.db import make_engine
from lineblocs_shared.queue.broker import install_broker
from lineblocs_shared.reliability.observability.logs import configure_logging
from lineblocs_shared.reliability.observability.sentry import init_sentry
from lineblocs_shared.settings import Settings, load_settings

# Connections a worker thread may hold at once: billing holds its period lock on one connection
# while its transaction runs on another.
CONNECTIONS_PER_THREAD = 2
# The outbox relay and the readiness probe, each on a thread of its own.
BACKGROUND_CONNECTIONS = 2

T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine  # the process's one engine: actors, dead letters, outbox relay, health
    broker: dramatiq.Broker


def process_engine(settings: Settings) -> Engine:
    """The engine of a worker process, with room for every thread's connections: a thread that
    holds one connection and waits for a second must never find the pool empty."""
    needed = CONNECTIONS_PER_THREAD * settings.worker_threads + BACKGROUND_CONNECTIONS
    pool_size = settings.db_pool_size
    return make_engine(
        settings.database_url,
        pool_size=pool_size,
        max_overflow=max(pool_size, needed - pool_size),
    )


def bootstrap_process() -> Runtime:
    """Read settings once, configure logging and Sentry, build the engine and install the
    broker: before any actor import. Sentry comes after logging so its breadcrumbs see the
    configured log records."""
    settings = load_settings()
    configure_logging(settings)
    init_sentry(settings)
    engine = process_engine(settings)
    return Runtime(settings, engine, install_broker(settings, engine=engine))


class ServiceRoot(Generic[T]):
    """Where a process installs a service's composition root for its actors to find.

    `@dramatiq.actor` functions are module-level: they cannot be handed their dependencies, so
    they ask `current()`, which the worker module (or the demo, or a test) set with `install`.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._deps: T | None = None

    def install(self, deps: T) -> None:
        self._deps = deps

    def current(self) -> T:
        if self._deps is None:
            raise RuntimeError(
                f"{self._service} dependencies not installed: import "
                f"lineblocs_{self._service}.worker (or install them first)"
            )
        return self._deps

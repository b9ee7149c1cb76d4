"""The embedded demo: SQLite + in-process broker + worker threads, no services needed.

The runner builds the schema, seeds the demo tenants, then hands a `DemoContext` to each
installed service's demo step; each step enqueues real messages and lets real actors run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.worker import _WorkerMiddleware as WorkerMiddleware
from sqlalchemy import Engine

from lineblocs_shared.clock import Clock
from lineblocs_shared.db import make_engine
from lineblocs_shared.db import migrate as migrations
from lineblocs_shared.db.embedded import create_embedded_schema
from lineblocs_shared.demo.seed import DemoDataset, seed_demo_dataset
from lineblocs_shared.queue.broker import install_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.registry import ServiceSpec, load_target
from lineblocs_shared.settings import EMBEDDED_QUEUE_URL, Settings

Row = tuple[str, ...]


@dataclass
class Section:
    title: str
    columns: Row
    rows: list[Row] = field(default_factory=list)


@dataclass
class DemoContext:
    settings: Settings
    engine: Engine
    broker: dramatiq.Broker
    clock: Clock
    dataset: DemoDataset
    sections: list[Section] = field(default_factory=list)

    def report(self, title: str, columns: Row, rows: list[Row]) -> None:
        self.sections.append(Section(title=title, columns=columns, rows=rows))

    def run_queued_messages(self, *, threads: int = 4, timeout_s: float = 60) -> None:
        """Run worker threads until every queue is empty and every message is done."""
        assert isinstance(self.broker, StubBroker)
        worker = Worker(self.broker, worker_threads=threads, worker_timeout=100)
        start_worker(worker)
        try:
            deadline = time.monotonic() + timeout_s
            for queue in list(self.broker.queues):
                remaining_ms = int(max(deadline - time.monotonic(), 1) * 1000)
                # Dead letters are recorded by our middleware: the demo reports, it does not raise.
                self.broker.join(queue, timeout=remaining_ms, fail_fast=False)
            worker.join()
        finally:
            worker.stop()
            # A stopped Dramatiq worker stays registered on its broker (its _WorkerMiddleware)
            # and would start consumers for queues declared later by another demo step, taking
            # their messages with no thread to run them: unregister it.
            self.broker.middleware[:] = [
                m for m in self.broker.middleware if not isinstance(m, WorkerMiddleware)
            ]


def prepare(database_path: Path, *, clock: Clock) -> DemoContext:
    """A fresh SQLite file with the schema and the demo tenants, and the in-process broker."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_path}{suffix}").unlink(missing_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{database_path}", queue_url=EMBEDDED_QUEUE_URL, log_level="WARNING"
    )
    engine = make_engine(settings.database_url)
    create_embedded_schema(engine)
    migrations.upgrade(engine)
    dataset = seed_demo_dataset(engine, now=clock.now())
    broker = install_broker(settings, engine=engine)
    return DemoContext(
        settings=settings, engine=engine, broker=broker, clock=clock, dataset=dataset
    )


def run_services(ctx: DemoContext, services: list[ServiceSpec]) -> list[str]:
    """Run each service's demo step in turn; returns the names of the services that ran."""
    ran: list[str] = []
    for spec in services:
        if spec.demo is not None:
            step: Callable[[DemoContext], None] = load_target(spec.demo)
            step(ctx)
            ran.append(spec.name)
    return ran

"""A no-op actor's throughput through our full middleware stack against bare Dramatiq.

Each stack gets its own RabbitMQ broker, queue and no-op actor. The queue is filled first (with
the BulkPublisher), then an in-process `dramatiq.Worker` with 8 threads drains it; the clock runs
from the first message handed to the actor to the last ack. Three stacks, alternating:

- no middleware at all,
- Dramatiq's default middleware (what `RabbitmqBroker()` gives you) — the reference,
- ours: `lineblocs_shared.queue.broker.project_middleware(settings)`, its dead-letter store on a
  throwaway SQLite file, health and metrics ports off (metrics are still recorded).

Every broker gets `process_boot`, as in a `dramatiq` worker process, so our Prometheus
middleware records as it does in production.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import Middleware, default_middleware
from dramatiq.middleware.prometheus import DB_PATH

from benchmarks.hook_costs import hook_costs
from benchmarks.support import BenchQueues, Measurement, print_table, verdict
from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.db.embedded import create_embedded_schema
from lineblocs_shared.queue.broker import project_middleware
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.settings import load_settings

GOAL_RATIO = 0.8
DRAIN_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class MiddlewareConfig:
    messages: int = 20_000
    threads: int = 8
    repeat: int = 5


class AckClock(Middleware):
    """Times a drain: first message handed to an actor → the `expected`-th ack."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.first: float | None = None
        self.last: float | None = None
        self.first_cpu = 0.0
        self.last_cpu = 0.0
        self.done = threading.Event()
        self._acks = 0
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self.first is None:
            with self._lock:
                if self.first is None:
                    self.first = time.perf_counter()
                    self.first_cpu = time.process_time()

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._acks += 1
            if self._acks == self.expected:
                self.last = time.perf_counter()
                self.last_cpu = time.process_time()
                self.done.set()

    @property
    def seconds(self) -> float:
        assert self.first is not None
        assert self.last is not None
        return self.last - self.first

    @property
    def cpu_seconds(self) -> float:
        """CPU time of this whole process (every worker thread) over the same span."""
        return self.last_cpu - self.first_cpu


def _noop(n: int) -> None:
    """The actor under test does nothing: what is measured is the machinery around it."""


def _drain(
    queues: BenchQueues, label: str, stack: Callable[[], list[Middleware]], config: MiddlewareConfig
) -> AckClock:
    clock = AckClock(config.messages)
    broker = RabbitmqBroker(
        url=queues.amqp_url, confirm_delivery=True, middleware=[*stack(), clock]
    )
    # What `dramatiq` does in each worker process: our Prometheus middleware starts recording.
    broker.emit_after("process_boot")
    queue = queues.new(f"mw-{label}")
    actor = dramatiq.actor(broker=broker, queue_name=queue, actor_name="bench_noop")(_noop)
    result = BulkPublisher(queues.amqp_url, declarer=broker).publish(
        actor.message(n) for n in range(config.messages)
    )
    if result.published != config.messages:
        raise RuntimeError(f"{queue}: only {result.published} of {config.messages} published")
    worker = dramatiq.Worker(broker, worker_threads=config.threads)
    start_worker(worker)
    try:
        if not clock.done.wait(DRAIN_TIMEOUT_S):
            raise RuntimeError(f"{label}: {queue} not drained in {DRAIN_TIMEOUT_S:g}s")
    finally:
        worker.stop()
        broker.close()
        queues.delete(queue)
    return clock


def _our_stack(
    amqp_url: str, workdir: Path, config: MiddlewareConfig
) -> Callable[[], list[Middleware]]:
    database = workdir / "bench-jobs.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    create_embedded_schema(engine)
    migrate.upgrade(engine)
    engine.dispose()
    settings = load_settings(
        environment="test",
        database_url=f"sqlite:///{database}",
        queue_url=amqp_url,
        sentry_dsn="",
        health_port=0,
        metrics_port=0,
        log_level="WARNING",
        # Our stack sets the consumers' prefetch (`QueuePrefetch`); every stack gets Dramatiq's
        # default (2 per thread) so that the ratio measures the middleware, not the prefetch.
        worker_prefetch=2 * config.threads,
    )
    return lambda: project_middleware(settings)


def run(amqp_url: str, config: MiddlewareConfig) -> bool:
    """Measure, print the table; True when the goal is met."""
    # Per-message INFO logs of any middleware would measure the terminal, not the stack.
    logging.getLogger().setLevel(logging.WARNING)
    queues = BenchQueues(amqp_url)
    with tempfile.TemporaryDirectory(prefix="bench-mw-") as workdir:
        stacks: list[tuple[str, str, Callable[[], list[Middleware]]]] = [
            ("none", "no middleware", list),
            ("dramatiq", "Dramatiq default middleware", lambda: [m() for m in default_middleware]),
            ("ours", "project_middleware (ours)", _our_stack(amqp_url, Path(workdir), config)),
        ]
        measured = {label: Measurement(name, config.messages) for label, name, _ in stacks}
        try:
            for _ in range(config.repeat):
                for label, _name, stack in stacks:
                    clock = _drain(queues, label, stack, config)
                    measured[label].seconds.append(clock.seconds)
                    measured[label].cpu_seconds.append(clock.cpu_seconds)
            costs = {label: hook_costs(stack) for label, _name, stack in stacks}
        finally:
            queues.delete_all()
            _forget_metrics_files()

    reference = measured["dramatiq"].rate
    print_table(
        f"middleware_throughput — no-op actor, {config.threads} worker threads, "
        f"best of {config.repeat} runs",
        [
            "stack",
            "messages",
            "msg/s",
            "x Dramatiq defaults",
            "median msg/s",
            "CPU µs/msg",
            "each run",
        ],
        [
            (
                m.name,
                f"{m.messages:,}",
                f"{m.rate:,.0f}",
                f"{m.rate / reference:.2f}",
                f"{m.median_rate:,.0f}",
                f"{m.cpu_us_per_message:,.0f}",
                m.runs,
            )
            for m in measured.values()
        ],
    )
    _print_hook_costs(costs["dramatiq"], costs["ours"])
    ours, dramatiq_defaults = measured["ours"], measured["dramatiq"]
    ratio = ours.rate / reference
    median_ratio = ours.median_rate / dramatiq_defaults.median_rate
    met = ratio >= GOAL_RATIO
    print_table(
        "middleware_throughput — goal",
        ["goal", "measured", "verdict"],
        [
            (
                f"ours ≥ {GOAL_RATIO}x Dramatiq defaults",
                f"{ratio:.2f}x (medians: {median_ratio:.2f}x)",
                verdict(met),
            )
        ],
    )
    return met


def _forget_metrics_files() -> None:
    """Prometheus keeps one file per metric type and process: drop this process's."""
    for path in Path(DB_PATH).glob(f"*_{os.getpid()}.db"):
        path.unlink(missing_ok=True)


def _print_hook_costs(defaults: list[tuple[str, float]], ours: list[tuple[str, float]]) -> None:
    default_costs = dict(defaults)
    print_table(
        "middleware_throughput — hook cost per message, each middleware called directly (µs)",
        ["middleware (ours, in order)", "ours", "Dramatiq defaults"],
        [
            (name, f"{cost:.1f}", f"{default_costs[name]:.1f}" if name in default_costs else "")
            for name, cost in ours
        ]
        + [
            (
                "total",
                f"{sum(c for _, c in ours):.1f}",
                f"{sum(default_costs.values()):.1f}",
            )
        ],
    )

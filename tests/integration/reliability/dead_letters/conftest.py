"""Fixtures of the dead-letter tests: the project's broker on RabbitMQ, its dead letters in
MariaDB, Sentry through the real SDK to a local capture server, and in-process worker threads."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import pika
import pytest
import sentry_sdk
from dramatiq import Worker
from sqlalchemy import Engine

from lineblocs_shared.models.jobs import DeadLetter
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.store import SqlDeadLetterStore
from lineblocs_shared.settings import Settings, load_settings
from tests.support.sentry_capture import SentryCapture, capturing_sentry

# Retries in milliseconds, so that a test sees several attempts in well under a second.
FAST_RETRIES = {"min_backoff": 20, "max_backoff": 80}


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def purge_queue(amqp_url: str, queue: str) -> None:
    """What RabbitMQ's dead-message TTL does to a `.XQ` copy, without waiting 7 days."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        connection.channel().queue_purge(queue)
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool], *, timeout_s: float = 10, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what or condition}")
        time.sleep(0.05)


@dataclass
class RabbitHarness:
    """The broker `build_broker` makes for RabbitMQ, with a queue of this test alone."""

    settings: Settings
    broker: dramatiq.Broker
    store: SqlDeadLetterStore
    sentry: SentryCapture
    queue: str = field(default_factory=lambda: f"rel-{uuid.uuid4().hex[:10]}")
    calls: list[int] = field(default_factory=list)
    worker: Worker | None = None

    def actor(self, fn: Callable[[int], None], **options: Any) -> dramatiq.Actor[Any, Any]:
        """Declare `fn` as an actor on the test queue; it gets the attempt number (1, 2, …)."""

        def counted(**kwargs: Any) -> None:
            self.calls.append(len(self.calls) + 1)
            fn(len(self.calls))

        declare = dramatiq.actor(
            actor_name=fn.__name__, queue_name=self.queue, broker=self.broker, **options
        )
        return declare(counted)

    def start_worker(self) -> None:
        self.worker = Worker(self.broker, worker_threads=1, worker_timeout=100)
        start_worker(self.worker)

    def dead_letters(self) -> list[DeadLetter]:
        return list(self.store.find(queue=self.queue))

    def wait_for_dead_letters(self, count: int) -> list[DeadLetter]:
        wait_until(lambda: len(self.dead_letters()) >= count, what=f"{count} dead letter(s)")
        # Alerting follows recording in the same hook: let it finish before anyone counts.
        wait_until(lambda: all(x.alerted_at for x in self.dead_letters()), what="alerted_at")
        return self.dead_letters()

    def settle(self, seconds: float = 0.6) -> None:
        """Long enough for any (wrongly) scheduled fast retry to have run."""
        time.sleep(seconds)

    def sentry_events(self) -> list[dict[str, Any]]:
        """Every event this test's capture server received (a server per test)."""
        sentry_sdk.flush(timeout=5)
        return self.sentry.wait_for_events(1, timeout_s=0.5)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop(timeout=5000)
        self.broker.close()


@pytest.fixture
def sentry_capture() -> Iterator[SentryCapture]:
    with capturing_sentry(environment="test") as capture:
        yield capture


@pytest.fixture
def rabbit(
    amqp_url: str, jobs_engine: Engine, sentry_capture: SentryCapture
) -> Iterator[RabbitHarness]:
    settings = load_settings(
        queue_url=amqp_url,
        database_url=jobs_engine.url.render_as_string(hide_password=False),
        environment="test",
    )
    harness = RabbitHarness(
        settings=settings,
        broker=build_broker(settings),  # the real composition: SQL store + Sentry alerter
        store=SqlDeadLetterStore(jobs_engine),
        sentry=sentry_capture,
    )
    yield harness
    harness.stop()

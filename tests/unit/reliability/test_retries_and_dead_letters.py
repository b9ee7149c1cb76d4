"""The retry and dead-letter middleware on the in-process broker the demo uses.

Real Dramatiq worker threads, the project's full middleware list (`build_broker`), the in-memory
dead-letter store and the recording alerter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, MiddlewareError

from lineblocs_shared.models.jobs import DeadLetter
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter, alert_tags
from lineblocs_shared.reliability.failures.retries import RetryPolicyError
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError
from lineblocs_shared.reliability.observability.redaction import REDACTED
from lineblocs_shared.settings import Settings

QUEUE = "reliability-unit"
FAST = {"min_backoff": 10, "max_backoff": 40}


@dataclass
class Harness:
    broker: StubBroker
    store: InMemoryDeadLetterStore
    alerter: RecordingAlerter
    calls: list[dict[str, Any]] = field(default_factory=list)

    def actor(self, fn: Callable[..., None], **options: Any) -> dramatiq.Actor[Any, Any]:
        def recorded(**kwargs: Any) -> None:
            self.calls.append(kwargs)
            fn(len(self.calls))

        declare = dramatiq.actor(
            actor_name=fn.__name__, queue_name=QUEUE, broker=self.broker, **options
        )
        return declare(recorded)

    def run(self) -> None:
        worker = Worker(self.broker, worker_threads=1, worker_timeout=50)
        start_worker(worker)
        try:
            self.broker.join(QUEUE, fail_fast=False, timeout=10_000)
            worker.join()
        finally:
            worker.stop()


def in_process_settings(tmp_path: Path) -> Settings:
    """The in-process broker; its outbox relay's database a file of the test's own."""
    return Settings(queue_url="memory://", database_url=f"sqlite:///{tmp_path / 'jobs.sqlite3'}")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    store, alerter = InMemoryDeadLetterStore(), RecordingAlerter()
    settings = in_process_settings(tmp_path)
    broker = build_broker(settings, dead_letters=store, alerter=alerter)
    assert isinstance(broker, StubBroker)
    yield Harness(broker=broker, store=store, alerter=alerter)
    broker.close()


def test_a_fatal_error_is_dead_lettered_at_once_with_one_record_and_one_alert(
    harness: Harness,
) -> None:
    def charge(attempt: int) -> None:
        raise FatalError("card declined")

    harness.actor(charge, max_retries=5, **FAST).send(invoice_id=7)
    harness.run()

    assert len(harness.calls) == 1
    [letter] = harness.store.find()
    assert (letter.actor_name, letter.queue_name, letter.reason) == ("charge", QUEUE, "fatal")
    assert letter.attempts == 1
    assert letter.exception_class == "lineblocs_shared.reliability.failures.taxonomy.FatalError"
    assert letter.exception_text == "card declined"
    assert "raise FatalError" in (letter.traceback or "")
    assert json.loads(letter.kwargs) == {"invoice_id": 7}
    assert [sent.letter.id for sent in harness.alerter.sent] == [letter.id]
    assert isinstance(harness.alerter.sent[0].exception, FatalError)
    assert letter.alerted_at is not None
    assert len(harness.broker.dead_letters) == 1


def test_a_transient_error_is_retried_until_it_succeeds(harness: Harness) -> None:
    def flaky(attempt: int) -> None:
        if attempt < 3:
            raise TransientError("gateway busy")

    harness.actor(flaky, max_retries=5, **FAST).send()
    harness.run()

    assert len(harness.calls) == 3
    assert harness.store.find() == []
    assert harness.alerter.sent == []
    assert harness.broker.dead_letters == []


def test_exhausted_retries_give_one_record_and_one_alert(harness: Harness) -> None:
    def down(attempt: int) -> None:
        raise ConnectionRefusedError("gateway down")

    harness.actor(down, max_retries=2, **FAST).send()
    harness.run()

    assert len(harness.calls) == 3
    [letter] = harness.store.find()
    assert (letter.reason, letter.attempts) == ("retries_exhausted", 3)
    assert letter.exception_class == "ConnectionRefusedError"
    assert len(harness.alerter.sent) == 1
    assert len(harness.broker.dead_letters) == 1


def test_retries_stop_when_the_retry_window_is_over(harness: Harness) -> None:
    def down(attempt: int) -> None:
        raise TransientError("still down")

    # First retry after 50-100 ms fits in 120 ms; the second (100-200 ms later) cannot.
    harness.actor(down, max_retries=10, min_backoff=50, max_backoff=1000, retry_for_ms=120).send()
    harness.run()

    assert len(harness.calls) == 2
    [letter] = harness.store.find()
    assert (letter.reason, letter.attempts) == ("retries_exhausted", 2)


def test_an_unknown_exception_is_retried_within_the_limits(harness: Harness) -> None:
    def surprising(attempt: int) -> None:
        raise KeyError("surprise")

    harness.actor(surprising, max_retries=1, **FAST).send()
    harness.run()

    assert len(harness.calls) == 2
    assert [letter.reason for letter in harness.store.find()] == ["retries_exhausted"]


def test_an_exception_listed_in_throws_is_fatal(harness: Harness) -> None:
    def strict(attempt: int) -> None:
        raise ValueError("bad amount")

    harness.actor(strict, max_retries=5, throws=(ValueError,), **FAST).send()
    harness.run()

    assert len(harness.calls) == 1
    assert [letter.reason for letter in harness.store.find()] == ["fatal"]


def test_a_message_past_its_age_limit_is_recorded_without_running(harness: Harness) -> None:
    def late(attempt: int) -> None:
        pass

    harness.actor(late, max_age=1).send()
    time.sleep(0.02)
    harness.run()

    assert harness.calls == []
    [letter] = harness.store.find()
    assert (letter.reason, letter.attempts, letter.exception_class) == ("age_limit", 0, None)
    assert [sent.exception for sent in harness.alerter.sent] == [None]


def test_a_message_for_an_unknown_actor_is_recorded(harness: Harness) -> None:
    harness.broker.declare_queue(QUEUE)
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=QUEUE, actor_name="ghost", args=(1,), kwargs={}, options={}
    )
    harness.broker.enqueue(message)
    harness.run()

    [letter] = harness.store.find()
    assert (letter.actor_name, letter.reason) == ("ghost", "unknown_actor")
    assert letter.message_id == message.message_id
    assert letter.exception_class == "dramatiq.errors.ActorNotFound"
    assert len(harness.alerter.sent) == 1


def test_the_same_message_dead_lettered_twice_has_one_record_and_one_alert(
    harness: Harness,
) -> None:
    def charge(attempt: int) -> None:
        raise FatalError(f"declined on attempt {attempt}")

    message = harness.actor(charge, **FAST).message()
    harness.broker.enqueue(message)
    harness.broker.enqueue(message)  # a redelivery of the same message
    harness.run()

    assert len(harness.calls) == 2
    [letter] = harness.store.find()
    assert letter.exception_text == "declined on attempt 2"
    assert len(harness.alerter.sent) == 1


def test_secrets_in_arguments_are_redacted_in_the_record(harness: Harness) -> None:
    def pay(attempt: int) -> None:
        raise FatalError("declined")

    harness.actor(pay, **FAST).send(card={"number": "4242424242424242"}, card_id=3, note="ok")
    harness.run()

    [letter] = harness.store.find()
    assert json.loads(letter.kwargs) == {"card": REDACTED, "card_id": 3, "note": "ok"}


def test_an_actor_asking_for_day_long_backoff_is_refused_at_declaration(
    harness: Harness,
) -> None:
    def slow(attempt: int) -> None:
        pass

    with pytest.raises(RetryPolicyError, match="max_backoff"):
        harness.actor(slow, max_backoff=24 * 3600_000)


class RefuseDelayedMessages(Middleware):
    """The broker refusing a retry's copy (as a lost publishing connection would)."""

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        if delay is not None:
            raise MiddlewareError("publishing connection lost")


def test_a_retry_the_broker_refuses_is_dead_lettered_not_lost(harness: Harness) -> None:
    harness.broker.add_middleware(RefuseDelayedMessages())

    def flaky(attempt: int) -> None:
        raise TransientError("busy")

    harness.actor(flaky, max_retries=5, **FAST).send()
    harness.run()

    assert len(harness.calls) == 1
    [letter] = harness.store.find()
    assert (letter.reason, letter.attempts) == ("retry_not_scheduled", 1)
    assert len(harness.alerter.sent) == 1


class UnreachableStore(InMemoryDeadLetterStore):
    def record(self, letter: DeadLetter) -> DeadLetter:
        raise ConnectionRefusedError("database down")


def test_the_alert_goes_out_even_when_the_record_cannot_be_written(tmp_path: Path) -> None:
    alerter = RecordingAlerter()
    settings = in_process_settings(tmp_path)
    broker = build_broker(settings, dead_letters=UnreachableStore(), alerter=alerter)
    assert isinstance(broker, StubBroker)
    harness = Harness(broker=broker, store=InMemoryDeadLetterStore(), alerter=alerter)

    def charge(attempt: int) -> None:
        raise FatalError("declined")

    harness.actor(charge).send()
    harness.run()

    [sent] = alerter.sent
    assert alert_tags(sent.letter)["dead_letter_id"] == "unrecorded"
    assert sent.letter.reason == "fatal"
    assert len(harness.broker.dead_letters) == 1  # RabbitMQ's XQ copy is what is left

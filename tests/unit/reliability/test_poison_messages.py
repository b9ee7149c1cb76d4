"""Poison messages on the in-process broker: whatever body arrives, a worker thread survives it,
the message ends handled or recorded (one record, one alert), and no card number leaks.

Real Dramatiq worker threads and our full middleware (`build_broker`: the guarded stub broker),
actors that validate real contracts, the in-memory dead-letter store and the recording alerter.
Bodies are put on the queue as raw bytes, as a publisher that bypasses Dramatiq would.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.middleware import Middleware
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineblocs_shared.contracts import BILL_SUBSCRIPTION
from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.db.embedded import create_embedded_schema
from lineblocs_shared.models.jobs import DeadLetter
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.guarded import GuardedStubBroker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.reliability.observability.logs import TextFormatter
from lineblocs_shared.settings import Settings

QUEUE = BILL_SUBSCRIPTION.queue
CARD = "4242424242424242"
CARD_WRITTEN = ("4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242")
LIMIT = 8 * 1024
NOV, DEC = "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"


@dataclass
class Harness:
    broker: GuardedStubBroker
    store: InMemoryDeadLetterStore
    alerter: RecordingAlerter
    handled: list[str] = field(default_factory=list)
    log: io.StringIO = field(default_factory=io.StringIO)

    def publish(self, body: bytes) -> None:
        self.broker.queues[QUEUE].put(body)

    def run(self) -> Worker:
        """Work the queue empty; returns the (stopped) worker to inspect its threads."""
        worker = Worker(self.broker, worker_threads=2, worker_timeout=20)
        start_worker(worker)
        try:
            self.broker.join(QUEUE, fail_fast=False, timeout=20_000)
            worker.join()
            threads = [*worker.workers, *worker.consumers.values()]
            assert all(thread.is_alive() for thread in threads), "a worker thread died"
        finally:
            worker.stop()
        return worker

    def letters(self) -> list[DeadLetter]:
        return list(self.store.find(limit=10_000))


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@functools.cache
def jobs_database_url() -> str:
    """A SQLite file with our tables, for the outbox relay every worker runs (once per module)."""
    url = f"sqlite:///{tempfile.mkdtemp(prefix='poison-')}/jobs.sqlite3"
    engine = make_engine(url)
    create_embedded_schema(engine)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def make_harness() -> Iterator[Harness]:
    store, alerter = InMemoryDeadLetterStore(), RecordingAlerter()
    settings = Settings(
        queue_url="memory://",
        database_url=jobs_database_url(),
        max_message_bytes=LIMIT,
        log_level="INFO",
    )
    broker = build_broker(settings, dead_letters=store, alerter=alerter)
    assert isinstance(broker, GuardedStubBroker)
    harness = Harness(broker=broker, store=store, alerter=alerter)

    def bill(**kwargs: Any) -> None:
        BILL_SUBSCRIPTION.parse(kwargs)
        message = dramatiq.middleware.CurrentMessage.get_current_message()
        harness.handled.append(message.message_id if message else "?")

    declare = dramatiq.actor(
        actor_name=BILL_SUBSCRIPTION.actor, queue_name=QUEUE, broker=broker, max_retries=0
    )
    declare(bill)
    handler = logging.StreamHandler(harness.log)
    handler.setFormatter(TextFormatter())
    logging.getLogger().addHandler(handler)
    try:
        yield harness
    finally:
        logging.getLogger().removeHandler(handler)
        broker.close()


PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


def envelope(**changes: Any) -> dict[str, Any]:
    """A well-formed bill message (its id a placeholder), with `changes` to its fields."""
    message = BILL_SUBSCRIPTION.message(
        BILL_SUBSCRIPTION.payload(
            subscription_id=7,
            period_start="2026-11-01T00:00:00+00:00",  # type: ignore[arg-type]
            period_end="2026-12-01T00:00:00+00:00",  # type: ignore[arg-type]
        ),
        message_id=PLACEHOLDER_ID,
    )
    return {**message.asdict(), "args": [], **changes}


def encoded(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


def leaked(harness: Harness) -> list[str]:
    """Where a card number of the tests shows up: records, alerts, log output. (What Sentry
    receives of an alert's exception is scrubbed by the real sentry-sdk: an integration test.)"""
    places = {"log": harness.log.getvalue()}
    for letter in harness.letters():
        stored = [letter.args, letter.kwargs, letter.options, letter.exception_text or ""]
        stored += [letter.traceback or "", (letter.raw_body or b"").decode("latin-1")]
        places[f"record {letter.message_id}"] = " ".join(stored)
    for sent in harness.alerter.sent:
        places[f"alert {sent.letter.message_id}"] = str(sent.letter)
    return [where for where, text in places.items() if any(c in text for c in CARD_WRITTEN)]


BAD_BODIES = {
    "not JSON": b"<xml>4242424242424242</xml>",
    "not UTF-8": b"\xff\xfe 4242 4242 4242 4242",
    "JSON but not an object": b'["4242-4242-4242-4242"]',
    "options not an object": encoded(envelope(options=["x"])),
    "queue name of another queue": encoded(envelope(queue_name="maintenance")),
    "kwargs not an object": encoded(envelope(kwargs="subscription_id=7")),
    "timestamp not a number": encoded(envelope(message_timestamp="now")),
    "message id too long": encoded(envelope(message_id="m" * 200)),
    "a 'throws' option": encoded(envelope(options={"throws": "Exception"})),
    "too large": encoded(envelope(kwargs={"blob": "x" * LIMIT})),
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_a_malformed_body_is_one_record_and_one_alert_and_the_worker_goes_on(
    harness: Harness, kind: str
) -> None:
    harness.publish(BAD_BODIES[kind])
    good = envelope()
    harness.publish(encoded(good))
    harness.run()

    [letter] = harness.letters()
    assert letter.reason == ("oversized" if kind == "too large" else "malformed")
    assert letter.body_length == len(BAD_BODIES[kind])
    assert (letter.raw_body is None) == (kind == "too large")
    assert [sent.letter.id for sent in harness.alerter.sent] == [letter.id]
    assert harness.handled == [good["message_id"]]  # the next message was not held up
    assert leaked(harness) == []


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        (
            {"subscription_id": "42", "period_start": "2026-11-01", "period_end": "2026-12-01"},
            "int",
        ),
        (
            {"subscription_id": 42, "period_start": "2026-12-01", "period_end": "2026-11-01"},
            "after",
        ),
        ({"subscription_id": 42, "period_start": CARD, "period_end": "2026-12-01"}, "datetime"),
    ],
)
def test_a_payload_that_does_not_validate_is_fatal_at_once_without_a_card_in_sight(
    harness: Harness, kwargs: dict[str, Any], problem: str
) -> None:
    harness.publish(encoded(envelope(kwargs=kwargs)))
    harness.run()

    [letter] = harness.letters()
    assert (letter.reason, letter.attempts) == ("fatal", 1)
    assert problem in (letter.exception_text or "")
    assert len(harness.alerter.sent) == 1
    assert leaked(harness) == []


def test_positional_arguments_are_fatal_at_once(harness: Harness) -> None:
    harness.publish(encoded(envelope(args=[7])))
    harness.run()
    [letter] = harness.letters()
    assert (letter.reason, letter.exception_class) == ("fatal", "TypeError")


def test_the_same_poison_message_delivered_six_times_is_one_record_and_one_alert(
    harness: Harness,
) -> None:
    body = encoded(envelope(options=[1]))
    for _ in range(6):
        harness.publish(body)
    unreadable = b"\x00 not a message"
    for _ in range(6):
        harness.publish(unreadable)
    harness.run()

    assert len(harness.letters()) == 2
    assert len(harness.alerter.sent) == 2


strings = st.one_of(
    st.text(max_size=30),
    st.sampled_from(CARD_WRITTEN).map(lambda card: f"ref {card} ok"),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
field_changes = st.dictionaries(
    st.sampled_from(
        ["args", "kwargs", "options", "queue_name", "actor_name", "message_timestamp", "extra"]
    ),
    json_values,
    max_size=2,
)
kwargs_changes = st.dictionaries(
    st.sampled_from(["subscription_id", "period_start", "period_end", "note"]),
    json_values,
    max_size=2,
)
GOOD_KWARGS = envelope()["kwargs"]
bodies = st.one_of(
    st.binary(max_size=200),
    field_changes.map(lambda changes: encoded(envelope(**changes))),
    kwargs_changes.map(
        lambda changes: encoded(envelope(kwargs={**envelope()["kwargs"], **changes}))
    ),
    st.just(encoded(envelope())),
    st.integers(LIMIT - 400, LIMIT + 400).map(
        lambda size: encoded(envelope(kwargs={"pad": "x" * size}))
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(bodies, min_size=1, max_size=8))
def test_whatever_bodies_arrive_each_ends_handled_or_recorded_and_nothing_leaks(
    batch: list[bytes],
) -> None:
    # A fresh id in every envelope: each is its own message. Identical unreadable bodies are
    # one dead letter (their id comes from their bytes), as the same message delivered again is.
    bodies = [b.replace(PLACEHOLDER_ID.encode(), str(uuid.uuid4()).encode()) for b in batch]
    for harness in make_harness():
        for body in bodies:
            harness.publish(body)
        harness.run()  # asserts that every worker thread is alive

        letters = harness.letters()
        assert len(set(harness.handled)) == len(harness.handled)
        assert len(harness.handled) + len(letters) == len(set(bodies))
        assert len(harness.alerter.sent) == len(letters)  # one alert per dead letter
        assert leaked(harness) == []


class Escapes(BaseException):
    """Like an asynchronous TimeLimitExceeded landing in an after-hook: no Exception."""


class EscapingHook(Middleware):
    """Raises in both after-hooks of one message: the result's, then Dramatiq's except branch's
    (whose exception escapes `process_message`)."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id

    def after_process_message(self, broker: Any, message: Any, **_: Any) -> None:
        if message.message_id == self.message_id:
            raise Escapes


def test_a_worker_thread_goes_on_when_an_exception_escapes_dramatiq(harness: Harness) -> None:
    first, second = envelope(message_id=str(uuid.uuid4())), envelope(message_id=str(uuid.uuid4()))
    harness.broker.add_middleware(EscapingHook(first["message_id"]))
    harness.publish(encoded(first))
    harness.publish(encoded(second))
    harness.run()  # asserts that both worker threads are alive afterwards

    assert sorted(harness.handled) == sorted([first["message_id"], second["message_id"]])
    assert "escaped the processing of message" in harness.log.getvalue()

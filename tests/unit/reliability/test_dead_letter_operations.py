"""The dead-letter store (SQL on the embedded SQLite database, and the in-memory fake) and the
operations behind `lineblocs-jobs dlq`, replayed into the in-process broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, MiddlewareError
from sqlalchemy import Engine

from lineblocs_shared.clock import FixedClock
from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus
from lineblocs_shared.reliability.failures import operations as ops
from lineblocs_shared.reliability.failures.store import (
    DeadLetterStore,
    InMemoryDeadLetterStore,
    SqlDeadLetterStore,
)
from lineblocs_shared.reliability.observability.redaction import REDACTED

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def letter(message_id: str, **overrides: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "message_id": message_id,
        "queue_name": "billing",
        "actor_name": "charge_invoice",
        "args": "[]",
        "kwargs": json.dumps({"invoice_id": 7}),
        "options": json.dumps({"max_retries": 2, "retries": 3, "traceback": "..."}),
        "reason": "fatal",
        "exception_class": "stripe.CardError",
        "exception_text": "declined",
        "traceback": "Traceback ...",
        "attempts": 1,
        "first_seen_at": NOW - timedelta(minutes=5),
        "last_seen_at": NOW,
        "status": DeadLetterStatus.DEAD,
    }
    values.update(overrides)
    return DeadLetter(**values)


@pytest.fixture(params=["sql", "memory"])
def store(request: pytest.FixtureRequest, sqlite_jobs_engine: Engine) -> DeadLetterStore:
    if request.param == "sql":
        return SqlDeadLetterStore(sqlite_jobs_engine)
    return InMemoryDeadLetterStore()


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    broker = StubBroker()
    broker.declare_queue("billing")
    yield broker
    broker.close()


def queued(broker: StubBroker, queue: str = "billing") -> list[dramatiq.Message[Any]]:
    return [dramatiq.Message.decode(body) for body in list(broker.queues[queue].queue)]


def test_recording_the_same_message_again_refreshes_its_row(store: DeadLetterStore) -> None:
    first = store.record(letter("m-1"))
    assert store.claim_alert(first.id or 0, at=NOW)
    again = store.record(
        letter("m-1", attempts=4, reason="retries_exhausted", last_seen_at=NOW + timedelta(hours=1))
    )

    assert again.id == first.id
    assert (again.attempts, again.reason) == (4, "retries_exhausted")
    assert again.last_seen_at == NOW + timedelta(hours=1)
    assert again.first_seen_at == NOW - timedelta(minutes=5)
    assert again.alerted_at == NOW  # so the recorder does not alert twice
    assert not store.claim_alert(again.id or 0, at=NOW + timedelta(hours=1))
    assert len(store.find()) == 1


def test_an_alert_claim_released_after_a_failed_send_can_be_claimed_again(
    store: DeadLetterStore,
) -> None:
    stored = store.record(letter("m-1"))
    assert store.claim_alert(stored.id or 0, at=NOW)
    store.release_alert(stored.id or 0)
    assert store.claim_alert(stored.id or 0, at=NOW)


def test_find_filters_and_orders_newest_first(store: DeadLetterStore) -> None:
    store.record(letter("m-1", last_seen_at=NOW - timedelta(days=9)))
    store.record(letter("m-2", queue_name="notifications", actor_name="send_email"))
    store.record(letter("m-3"))

    assert [x.message_id for x in store.find()] == ["m-3", "m-2", "m-1"]
    assert [x.message_id for x in store.find(queue="billing")] == ["m-3", "m-1"]
    assert [x.message_id for x in store.find(actor="send_email")] == ["m-2"]
    assert [x.message_id for x in store.find(since=NOW - timedelta(days=7))] == ["m-3", "m-2"]
    assert [x.message_id for x in store.find(limit=1)] == ["m-3"]


def test_replay_enqueues_a_fresh_message_once(store: DeadLetterStore, broker: StubBroker) -> None:
    dead = store.record(letter("m-1"))
    clock = FixedClock(NOW + timedelta(days=1))

    first = ops.replay(store, broker, dead.id or 0, clock=clock)
    second = ops.replay(store, broker, dead.id or 0, clock=clock)

    assert first.outcome is ops.ReplayOutcome.REPLAYED
    assert second.outcome is ops.ReplayOutcome.ALREADY_REPLAYED
    assert second.message_id == first.message_id
    [message] = queued(broker)
    assert message.message_id == first.message_id != "m-1"
    assert (message.actor_name, message.kwargs) == ("charge_invoice", {"invoice_id": 7})
    # Fresh retries: the per-message policy is kept, the delivery history is not.
    assert message.options == {"max_retries": 2, "replay_of": dead.id}
    replayed = store.get(dead.id or 0)
    assert replayed is not None
    assert replayed.status == DeadLetterStatus.REPLAYED
    assert (replayed.replay_count, replayed.replayed_at) == (1, clock.now())
    assert replayed.replay_message_id == first.message_id


class RefusingPublisher(Middleware):
    """Makes every enqueue fail, as a broker connection lost mid-publish would."""

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        raise MiddlewareError("connection lost")


def test_a_failed_publish_leaves_the_record_replayable(store: DeadLetterStore) -> None:
    dead = store.record(letter("m-1"))
    refusing = StubBroker(middleware=[RefusingPublisher()])

    with pytest.raises(MiddlewareError, match="connection lost"):
        ops.replay(store, refusing, dead.id or 0, clock=FixedClock(NOW))

    after = store.get(dead.id or 0)
    assert after is not None
    assert (after.status, after.replay_count, after.replay_message_id) == ("dead", 0, None)


def test_replaying_redacted_arguments_is_refused(
    store: DeadLetterStore, broker: StubBroker
) -> None:
    dead = store.record(letter("m-1", kwargs=json.dumps({"card": REDACTED})))

    result = ops.replay(store, broker, dead.id or 0, clock=FixedClock(NOW))

    assert result.outcome is ops.ReplayOutcome.REDACTED
    assert queued(broker) == []
    assert (store.get(dead.id or 0) or dead).status == DeadLetterStatus.DEAD


def test_replay_by_actor_replays_its_dead_records_oldest_first(
    store: DeadLetterStore, broker: StubBroker
) -> None:
    store.record(letter("m-1", kwargs='{"invoice_id": 1}'))
    store.record(letter("m-2", actor_name="other"))
    store.record(letter("m-3", kwargs='{"invoice_id": 3}'))

    results = ops.replay_actor(store, broker, "charge_invoice", clock=FixedClock(NOW))
    again = ops.replay_actor(store, broker, "charge_invoice", clock=FixedClock(NOW))

    assert [r.outcome for r in results] == [ops.ReplayOutcome.REPLAYED] * 2
    assert again == []
    assert [m.kwargs["invoice_id"] for m in queued(broker)] == [1, 3]


def test_replaying_an_unknown_id_is_an_expected_failure(
    store: DeadLetterStore, broker: StubBroker
) -> None:
    with pytest.raises(ops.DeadLetterNotFound, match="no dead letter with id 999"):
        ops.replay(store, broker, 999, clock=FixedClock(NOW))


def test_purge_deletes_by_last_seen(store: DeadLetterStore) -> None:
    store.record(letter("old", last_seen_at=NOW - timedelta(days=31)))
    store.record(letter("new", last_seen_at=NOW - timedelta(days=29)))

    count, cutoff = ops.purge(store, older_than=timedelta(days=30), clock=FixedClock(NOW))

    assert (count, cutoff) == (1, NOW - timedelta(days=30))
    assert [x.message_id for x in store.find()] == ["new"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8, tzinfo=UTC)),
    ],
)
def test_since_takes_an_age_or_an_iso_date(text: str, expected: datetime) -> None:
    assert ops.parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days", "-3d", ""])
def test_bad_time_specs_are_expected_failures(text: str) -> None:
    with pytest.raises(ops.InvalidTimeSpec):
        ops.parse_since(text, now=NOW)


def test_a_replayed_periodic_message_runs_as_a_manual_trigger() -> None:
    from datetime import UTC, datetime

    from lineblocs_shared.models.jobs import DeadLetter
    from lineblocs_shared.reliability.failures.operations import replay_message

    letter = DeadLetter(
        message_id="m-1",
        queue_name="maintenance",
        actor_name="purge_logs",
        args="[]",
        kwargs="{}",
        options='{"scheduled_at": "2026-11-23T03:15:00+00:00", "retries": 3}',
        reason="retries_exhausted",
        first_seen_at=datetime(2026, 11, 23, 3, 15, tzinfo=UTC),
        last_seen_at=datetime(2026, 11, 23, 4, 0, tzinfo=UTC),
    )
    message = replay_message(letter, message_id="m-2", now=datetime(2026, 11, 24, tzinfo=UTC))
    assert "scheduled_at" not in message.options
    assert "retries" not in message.options

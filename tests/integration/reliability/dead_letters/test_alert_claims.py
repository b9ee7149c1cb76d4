"""One alert per dead letter under concurrency: MariaDB decides who sends it, not a read."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus
from lineblocs_shared.reliability.failures.store import SqlDeadLetterStore

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
DELIVERIES = 8


def letter(message_id: str) -> DeadLetter:
    return DeadLetter(
        message_id=message_id,
        queue_name="billing",
        actor_name="bill_subscription",
        args="[]",
        kwargs="{}",
        options="{}",
        reason="malformed",
        first_seen_at=NOW,
        last_seen_at=NOW,
        status=DeadLetterStatus.DEAD,
    )


def test_of_many_deliveries_recording_one_poison_message_at_once_one_sends_the_alert(
    jobs_engine: Engine,
) -> None:
    store = SqlDeadLetterStore(jobs_engine)
    start = threading.Barrier(DELIVERIES)
    claimed: list[bool] = []
    lock = threading.Lock()

    def deliver() -> None:
        start.wait()
        stored = store.record(letter("poison-1"))  # every delivery records, as the recorder does
        assert stored.id is not None
        won = store.claim_alert(stored.id, at=NOW)
        with lock:
            claimed.append(won)

    threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(claimed) == [False] * (DELIVERIES - 1) + [True]
    [row] = store.find()
    assert row.alerted_at == NOW


def test_a_released_claim_lets_the_next_delivery_alert(jobs_engine: Engine) -> None:
    store = SqlDeadLetterStore(jobs_engine)
    stored = store.record(letter("poison-2"))
    assert stored.id is not None
    assert store.claim_alert(stored.id, at=NOW)
    store.release_alert(stored.id)  # the alert could not be sent
    assert store.claim_alert(stored.id, at=NOW)
    assert not store.claim_alert(stored.id, at=NOW)

"""Several relays on one MariaDB publish every row exactly once (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from lineblocs_shared.contracts import Contract
from lineblocs_shared.db import make_engine
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.outbox.publishers import RecordingOutboxPublisher
from lineblocs_shared.reliability.outbox.relay import OutboxRelay, PublishOutcome
from lineblocs_shared.reliability.outbox.writer import add_to_outbox
from tests.support.outbox_scenario import PaymentFailedNotice

pytestmark = pytest.mark.integration

ROWS = 300
BATCH = 20
RELAYS = 3


class SlowRecorder(RecordingOutboxPublisher):
    """Confirms after a pause, as a broker round-trip would: relays overlap in time."""

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        time.sleep(0.02)
        return super().publish_batch(messages)


def relay_until_empty(
    relay: OutboxRelay, start: threading.Barrier, errors: list[BaseException]
) -> None:
    try:
        start.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if relay.relay_once(batch_size=BATCH).backlog == 0:
                return
        raise TimeoutError("backlog not drained within 30s")
    except BaseException as exc:
        errors.append(exc)


def test_concurrent_relays_never_publish_a_row_twice(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    with Session(mariadb_engine) as session:
        for n in range(ROWS):
            add_to_outbox(session, contract, PaymentFailedNotice(invoice_id=n + 1))
        session.commit()
    url = mariadb_engine.url
    engines = [make_engine(url.render_as_string(hide_password=False)) for _ in range(RELAYS)]
    publishers = [SlowRecorder() for _ in range(RELAYS)]
    start = threading.Barrier(RELAYS)
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=relay_until_empty, args=(OutboxRelay(engine, publisher), start, errors)
        )
        for engine, publisher in zip(engines, publishers, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for engine in engines:
            engine.dispose()

    assert errors == []
    published = [mid for publisher in publishers for mid in publisher.message_ids]
    duplicates = [mid for mid, seen in Counter(published).items() if seen > 1]
    assert duplicates == []
    assert len(published) == ROWS
    # Every relay took part: the rows were really contended for, not drained by one.
    assert all(publisher.message_ids for publisher in publishers)
    with Session(mariadb_engine) as session:
        left = select(func.count()).where(col(OutboxMessage.published_at).is_(None))
        assert session.execute(left).scalar_one() == 0


def test_a_relay_skips_rows_another_relay_holds_instead_of_waiting(
    mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    with Session(mariadb_engine, expire_on_commit=False) as session:
        rows = [
            add_to_outbox(session, contract, PaymentFailedNotice(invoice_id=n + 1))
            for n in range(6)
        ]
        session.commit()
    held = [row.event_id for row in rows[:2]]
    publisher = RecordingOutboxPublisher()

    with Session(mariadb_engine) as other_relay, other_relay.begin():
        # Another relay's pass, mid-publish: it holds the two oldest rows.
        lock = select(OutboxMessage).where(col(OutboxMessage.event_id).in_(held))
        other_relay.execute(lock.with_for_update()).all()
        started = time.monotonic()
        result = OutboxRelay(mariadb_engine, publisher).relay_once()
        elapsed = time.monotonic() - started

    assert elapsed < 5  # InnoDB's lock wait would be 50 s
    assert (result.published, result.failed, result.backlog) == (4, 0, 2)
    assert publisher.message_ids == [row.event_id for row in rows[2:]]

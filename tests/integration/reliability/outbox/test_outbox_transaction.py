"""The outbox row lives and dies with the business change; the relay records every outcome.

Both databases: MariaDB (row locks, SKIP LOCKED) and the embedded SQLite (one writer).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from lineblocs_shared.contracts import Contract
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.jobs import OutboxMessage, ProcessedEvent
from lineblocs_shared.reliability.outbox.backlog import outbox_stats
from lineblocs_shared.reliability.outbox.inbox import first_delivery
from lineblocs_shared.reliability.outbox.publishers import (
    FailingOutboxPublisher,
    RecordingOutboxPublisher,
)
from lineblocs_shared.reliability.outbox.relay import OutboxRelay
from lineblocs_shared.reliability.outbox.writer import EVENT_ID_OPTION
from tests.support.outbox_scenario import (
    CONSUMER,
    PaymentFailedNotice,
    fail_payment,
    invoice_status,
    make_open_invoice,
)

pytestmark = pytest.mark.integration


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list(session.execute(stmt).scalars().all())


def fail_payments(
    engine: Engine, contract: Contract[PaymentFailedNotice], count: int
) -> list[OutboxMessage]:
    rows = []
    for _ in range(count):
        invoice_id = make_open_invoice(engine)
        with UnitOfWork(engine) as uow:
            rows.append(fail_payment(uow, invoice_id=invoice_id, contract=contract))
            uow.commit()
    return rows


def test_outbox_row_is_committed_and_rolled_back_with_the_business_change(
    outbox_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    invoice_id = make_open_invoice(outbox_engine)

    with UnitOfWork(outbox_engine) as uow:
        fail_payment(uow, invoice_id=invoice_id, contract=contract)
        uow.rollback()
    assert invoice_status(outbox_engine, invoice_id) == "INCOMPLETE"
    assert outbox_rows(outbox_engine) == []

    with UnitOfWork(outbox_engine) as uow:
        written = fail_payment(uow, invoice_id=invoice_id, contract=contract)
        uow.commit()
    assert invoice_status(outbox_engine, invoice_id) == "failed"
    [row] = outbox_rows(outbox_engine)
    assert row.event_id == written.event_id
    assert (row.queue_name, row.actor_name) == (contract.queue, contract.actor)
    assert json.loads(row.payload) == {"invoice_id": invoice_id}
    assert row.published_at is None


def test_relay_publishes_in_id_order_and_marks_published(
    outbox_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    rows = fail_payments(outbox_engine, contract, 5)
    publisher = RecordingOutboxPublisher()
    relay = OutboxRelay(outbox_engine, publisher)

    first = relay.relay_once(batch_size=3)
    second = relay.relay_once(batch_size=3)
    third = relay.relay_once(batch_size=3)

    assert (first.published, first.failed, first.backlog) == (3, 0, 2)
    assert (second.published, second.failed, second.backlog) == (2, 0, 0)
    assert (third.published, third.failed, third.backlog) == (0, 0, 0)
    assert publisher.message_ids == [row.event_id for row in rows]
    message = publisher.messages[0]
    assert message.options[EVENT_ID_OPTION] == message.message_id == rows[0].event_id
    assert (message.queue_name, message.actor_name) == (contract.queue, contract.actor)
    assert contract.parse(message.kwargs) == PaymentFailedNotice(
        invoice_id=json.loads(rows[0].payload)["invoice_id"]
    )
    for stored in outbox_rows(outbox_engine):
        assert stored.published_at is not None
        assert (stored.attempts, stored.last_error) == (1, None)


def test_unconfirmed_message_stays_unpublished_with_its_error_until_a_later_pass(
    outbox_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    rows = fail_payments(outbox_engine, contract, 3)
    nacked = rows[1].event_id
    failing = FailingOutboxPublisher({nacked}, error="NackError: basic.nack from the broker")

    result = OutboxRelay(outbox_engine, failing).relay_once()

    assert (result.published, result.failed, result.backlog) == (2, 1, 1)
    assert failing.message_ids == [rows[0].event_id, rows[2].event_id]
    stored = {row.event_id: row for row in outbox_rows(outbox_engine)}
    assert stored[nacked].published_at is None
    assert stored[nacked].attempts == 1
    assert stored[nacked].last_error == "NackError: basic.nack from the broker"
    stats = outbox_stats(outbox_engine)
    assert (stats.backlog, stats.failing) == (1, 1)
    assert stats.oldest_unpublished_at == stored[nacked].created_at

    retry = RecordingOutboxPublisher()
    again = OutboxRelay(outbox_engine, retry).relay_once()

    assert (again.published, again.failed, again.backlog) == (1, 0, 0)
    assert retry.message_ids == [nacked]
    republished = {row.event_id: row for row in outbox_rows(outbox_engine)}[nacked]
    assert republished.published_at is not None
    assert (republished.attempts, republished.last_error) == (2, None)


def test_a_publisher_that_raises_leaves_every_row_unpublished_with_the_error(
    outbox_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> None:
    fail_payments(outbox_engine, contract, 2)

    class BrokenPublisher:
        def publish_batch(self, messages: object) -> list[object]:
            raise ConnectionResetError("broker went away")

    result = OutboxRelay(outbox_engine, BrokenPublisher()).relay_once()  # type: ignore[arg-type]

    assert (result.published, result.failed, result.backlog) == (0, 2, 2)
    for row in outbox_rows(outbox_engine):
        assert row.attempts == 1
        assert row.last_error == "ConnectionResetError: broker went away"


def test_first_delivery_is_true_once_and_rolls_back_with_the_consumer_work(
    outbox_engine: Engine,
) -> None:
    with Session(outbox_engine) as session:
        assert first_delivery(session, consumer=CONSUMER, event_id="ev-1") is True
        session.rollback()  # the consumer's work failed: the event was not processed
    with Session(outbox_engine) as session:
        assert first_delivery(session, consumer=CONSUMER, event_id="ev-1") is True
        session.commit()
    with Session(outbox_engine) as session:
        assert first_delivery(session, consumer=CONSUMER, event_id="ev-1") is False
        # The duplicate left the consumer's transaction usable.
        assert first_delivery(session, consumer="another.consumer", event_id="ev-1") is True
        session.commit()

    with Session(outbox_engine) as session:
        recorded = session.execute(
            select(col(ProcessedEvent.consumer), col(ProcessedEvent.event_id)).order_by(
                col(ProcessedEvent.id)
            )
        ).all()
    assert [tuple(r) for r in recorded] == [(CONSUMER, "ev-1"), ("another.consumer", "ev-1")]

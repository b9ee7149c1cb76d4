"""At-least-once through crashes, exactly one effect: SIGKILL at the two dangerous moments.

1. after the business transaction committed, before anything was published;
2. after RabbitMQ confirmed the publish, before the relay marked the row published.
Each time a fresh relay then publishes to the real RabbitMQ, and a real Dramatiq worker,
de-duplicating by event id, sends the notice once even when it is delivered twice.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from lineblocs_shared.contracts import Contract
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.jobs import OutboxMessage, ProcessedEvent
from lineblocs_shared.reliability.outbox.publishers import (
    BrokerPublisher,
    confirmed_publishing_broker,
)
from lineblocs_shared.reliability.outbox.relay import OutboxRelay
from lineblocs_shared.reliability.outbox.writer import message_of
from tests.conftest import REPO_ROOT
from tests.integration.reliability.outbox.conftest import NoticeConsumer
from tests.support.outbox_scenario import (
    CONSUMER,
    PaymentFailedNotice,
    fail_payment,
    invoice_status,
    make_open_invoice,
    notices_sent,
)

pytestmark = pytest.mark.integration

READY_TIMEOUT_S = 30


def run_until_ready(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the crash child; return it and what it reported once it reached its hang point."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_crash", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    output: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                return child, line.removeprefix("READY ").strip()
            output.append(line)
    child.kill()
    pytest.fail(f"crash child never got ready:\n{''.join(output)}")


def sigkill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL


def outbox_row(engine: Engine, event_id: str) -> OutboxMessage:
    with Session(engine) as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.event_id) == event_id)
        return session.execute(stmt).scalar_one()


def processed_event_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        stmt = select(col(ProcessedEvent.event_id)).where(col(ProcessedEvent.consumer) == CONSUMER)
        return list(session.execute(stmt).scalars().all())


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_outbox_survives_sigkill_between_commit_and_publish(
    mariadb_engine: Engine,
    amqp_url: str,
    contract: Contract[PaymentFailedNotice],
    consumer: NoticeConsumer,
) -> None:
    invoice_id = make_open_invoice(mariadb_engine)

    child, event_id = run_until_ready(
        "commit", database_url(mariadb_engine), contract.queue, str(invoice_id)
    )
    sigkill(child)

    # The commit held: the change and its message are there, the message not yet sent.
    assert invoice_status(mariadb_engine, invoice_id) == "failed"
    assert outbox_row(mariadb_engine, event_id).published_at is None
    broker = confirmed_publishing_broker(amqp_url)
    try:
        publisher = BrokerPublisher(broker)
        result = OutboxRelay(mariadb_engine, publisher).relay_once()
        assert (result.published, result.failed, result.backlog) == (1, 0, 0)
        # The same event published again, as a relay that lost its mark would.
        [duplicate] = publisher.publish_batch([message_of(outbox_row(mariadb_engine, event_id))])
        assert duplicate.confirmed
    finally:
        broker.close()

    consumer.wait_for_deliveries(2)

    assert consumer.deliveries == [event_id, event_id]
    assert notices_sent(mariadb_engine) == 1
    assert processed_event_ids(mariadb_engine) == [event_id]
    assert outbox_row(mariadb_engine, event_id).published_at is not None


def test_relay_killed_after_confirm_before_marking_republishes_and_consumer_acts_once(
    mariadb_engine: Engine,
    amqp_url: str,
    contract: Contract[PaymentFailedNotice],
    consumer: NoticeConsumer,
) -> None:
    invoice_id = make_open_invoice(mariadb_engine)
    with UnitOfWork(mariadb_engine) as uow:
        event_id = fail_payment(uow, invoice_id=invoice_id, contract=contract).event_id
        uow.commit()

    child, confirmed = run_until_ready("publish", database_url(mariadb_engine), amqp_url)
    assert confirmed == event_id
    sigkill(child)

    # The broker has the message; the database never heard: the row is still unpublished.
    row = outbox_row(mariadb_engine, event_id)
    assert (row.published_at, row.attempts) == (None, 0)
    broker = confirmed_publishing_broker(amqp_url)
    try:
        result = OutboxRelay(mariadb_engine, BrokerPublisher(broker)).relay_once()
    finally:
        broker.close()
    assert (result.published, result.failed, result.backlog) == (1, 0, 0)

    consumer.wait_for_deliveries(2)

    assert consumer.deliveries == [event_id, event_id]
    assert notices_sent(mariadb_engine) == 1
    assert processed_event_ids(mariadb_engine) == [event_id]

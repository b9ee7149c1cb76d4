"""The relay against the real RabbitMQ and MariaDB: confirmed order, real nacks, many relays."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import dramatiq
import pika
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from lineblocs_shared.contracts import Contract
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.outbox.publishers import (
    BrokerPublisher,
    confirmed_publishing_broker,
)
from lineblocs_shared.reliability.outbox.relay import OutboxRelay
from lineblocs_shared.reliability.outbox.writer import EVENT_ID_OPTION, add_to_outbox
from tests.conftest import service_missing
from tests.support.outbox_scenario import PaymentFailedNotice

pytestmark = pytest.mark.integration

# pika's text for a nack (Dramatiq wraps it in ConnectionClosed after its enqueue attempts).
NACKED = "0 message(s) NACKed"


def write_notices(
    engine: Engine, contract: Contract[PaymentFailedNotice], count: int
) -> list[OutboxMessage]:
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            add_to_outbox(session, contract, PaymentFailedNotice(invoice_id=n))
            for n in range(1, count + 1)
        ]
        session.commit()
    return rows


def unpublished(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        return list(session.execute(stmt.order_by(col(OutboxMessage.id))).scalars().all())


def take_queued(amqp_url: str, queue: str) -> list[dramatiq.Message[Any]]:
    """Every message waiting in `queue`, in queue order (taken off the queue)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        messages: list[dramatiq.Message[Any]] = []
        while True:
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return messages
            messages.append(dramatiq.Message.decode(body))
    finally:
        connection.close()


@pytest.fixture
def rabbit_publisher(amqp_url: str) -> Iterator[BrokerPublisher]:
    broker = confirmed_publishing_broker(amqp_url)
    yield BrokerPublisher(broker)
    broker.close()


def test_relay_publishes_to_rabbitmq_in_id_order_with_the_event_id(
    mariadb_engine: Engine,
    amqp_url: str,
    contract: Contract[PaymentFailedNotice],
    rabbit_publisher: BrokerPublisher,
) -> None:
    rows = write_notices(mariadb_engine, contract, 20)

    result = OutboxRelay(mariadb_engine, rabbit_publisher).relay_once()

    assert (result.published, result.failed, result.backlog) == (20, 0, 0)
    queued = take_queued(amqp_url, contract.queue)
    assert [m.message_id for m in queued] == [row.event_id for row in rows]
    assert all(m.options[EVENT_ID_OPTION] == m.message_id for m in queued)
    assert [contract.parse(m.kwargs).invoice_id for m in queued] == list(range(1, 21))
    assert unpublished(mariadb_engine) == []


class RejectPolicy:
    """A RabbitMQ policy that makes the broker nack every message published to one queue."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        ctl = shutil.which("rabbitmqctl")
        if ctl is None:
            service_missing("rabbitmqctl is needed to set a queue policy")
        self._ctl = str(ctl)
        self._vhost = pika.URLParameters(amqp_url).virtual_host
        self._name = f"reject-{queue}"
        self._queue = queue

    def _run(self, *args: str) -> None:
        subprocess.run([self._ctl, "-q", *args, "-p", self._vhost], check=True, timeout=60)

    def apply(self) -> None:
        limits = '{"max-length": 0, "overflow": "reject-publish"}'
        self._run("set_policy", self._name, f"^{self._queue}$", limits, "--apply-to", "queues")

    def clear(self) -> None:
        self._run("clear_policy", self._name)


def test_nacked_messages_stay_unpublished_with_the_error_and_go_out_later(
    mariadb_engine: Engine,
    amqp_url: str,
    contract: Contract[PaymentFailedNotice],
    rabbit_publisher: BrokerPublisher,
) -> None:
    rows = write_notices(mariadb_engine, contract, 2)
    policy = RejectPolicy(amqp_url, contract.queue)
    policy.apply()
    try:
        result = OutboxRelay(mariadb_engine, rabbit_publisher).relay_once()
    finally:
        policy.clear()

    assert (result.published, result.failed, result.backlog) == (0, 2, 2)
    first, second = unpublished(mariadb_engine)
    assert first.attempts == second.attempts == 1
    assert first.last_error == second.last_error == "ConnectionClosed: NackError: " + NACKED
    assert take_queued(amqp_url, contract.queue) == []

    again = OutboxRelay(mariadb_engine, rabbit_publisher).relay_once()

    assert (again.published, again.failed, again.backlog) == (2, 0, 0)
    queued = take_queued(amqp_url, contract.queue)
    assert [m.message_id for m in queued] == [row.event_id for row in rows]
    assert [(r.attempts, r.last_error) for r in unpublished(mariadb_engine)] == []

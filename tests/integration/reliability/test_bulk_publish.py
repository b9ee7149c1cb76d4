"""Confirmed bulk publishing against the real RabbitMQ of this test session.

What a distributor relies on: every message reported published is in its queue and a Dramatiq
worker of ours consumes it; a message RabbitMQ refuses is reported failed, never counted; a
stalled or dropped connection costs a retry, not a message.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.settings import load_settings
from tests.support.tcp_proxy import Fault, FaultyProxy

pytestmark = pytest.mark.integration


def _queue_name() -> str:
    return f"bulk-{uuid.uuid4().hex[:10]}"


def _messages(queue: str, count: int) -> list[dramatiq.Message[Any]]:
    return [
        dramatiq.Message(queue_name=queue, actor_name="record", args=(n,), kwargs={}, options={})
        for n in range(count)
    ]


def _depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def _queued_ids(amqp_url: str, queue: str) -> list[str]:
    """Take every message out of the queue; the Dramatiq message ids, in queue order."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ids: list[str] = []
    try:
        channel = connection.channel()
        while True:
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return ids
            ids.append(dramatiq.Message.decode(body).message_id)
    finally:
        connection.close()


class LimitedQueues(RabbitmqBroker):
    """Declares Dramatiq's queues with a length limit past which RabbitMQ nacks publishes."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _build_queue_arguments(self, queue_name: str) -> dict[str, Any]:
        arguments: dict[str, Any] = super()._build_queue_arguments(queue_name)
        return {**arguments, "x-max-length": self.max_length, "x-overflow": "reject-publish"}


class LateDeclarer(RabbitmqBroker):
    """Skips its first declaration: the first publishes find no queue and come back unroutable."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skipped = False

    def declare_queue(self, queue_name: str, *, ensure: bool = False) -> None:
        if not self.skipped:
            self.skipped = True
            return
        super().declare_queue(queue_name, ensure=ensure)


@pytest.fixture
def worker_broker(amqp_url: str, tmp_path: Path) -> Iterator[dramatiq.Broker]:
    """Our broker, full middleware stack, on the test vhost (dead letters kept in memory)."""
    settings = load_settings(
        queue_url=amqp_url,
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        health_port=0,
        metrics_port=0,
    )
    broker = build_broker(
        settings, dead_letters=InMemoryDeadLetterStore(), alerter=RecordingAlerter()
    )
    yield broker
    broker.close()


def test_five_thousand_messages_are_confirmed_queued_and_consumed_by_our_worker(
    amqp_url: str, worker_broker: dramatiq.Broker
) -> None:
    queue = _queue_name()
    count = 5000
    result = BulkPublisher(amqp_url, window=500).publish(_messages(queue, count))

    assert (result.published, result.failed) == (count, [])
    assert _depth(amqp_url, queue) == count
    # Dramatiq's companions exist, so retries and dead letters have somewhere to go.
    assert _depth(amqp_url, f"{queue}.DQ") == 0
    assert _depth(amqp_url, f"{queue}.XQ") == 0

    received: set[int] = set()
    lock = threading.Lock()
    all_received = threading.Event()

    def record(n: int) -> None:
        with lock:
            received.add(n)
            if len(received) == count:
                all_received.set()

    # Declaring the actor makes our broker declare the same queue: arguments must agree.
    dramatiq.actor(broker=worker_broker, queue_name=queue, actor_name="record")(record)
    worker = dramatiq.Worker(worker_broker, worker_threads=8)
    start_worker(worker)
    try:
        assert all_received.wait(15), f"consumed {len(received)} of {count}"
    finally:
        worker.stop()
    assert received == set(range(count))


def test_one_publisher_serves_one_publish_after_another(amqp_url: str) -> None:
    queue = _queue_name()
    publisher = BulkPublisher(amqp_url)
    first, second = _messages(queue, 10), _messages(queue, 10)

    assert publisher.publish(first).published == 10
    assert publisher.publish(second).published == 10
    assert _depth(amqp_url, queue) == 20


def test_a_failing_message_source_is_raised_not_taken_for_a_lost_connection(
    amqp_url: str,
) -> None:
    queue = _queue_name()
    messages = _messages(queue, 100)

    def source() -> Iterator[dramatiq.Message[Any]]:
        yield from messages[:40]
        raise LookupError("the distributor's page query failed")

    with pytest.raises(LookupError, match="page query failed"):
        BulkPublisher(amqp_url).publish(source())
    assert _depth(amqp_url, queue) == 40  # what was taken before the failure went out


def test_messages_rabbitmq_nacks_are_retried_then_reported_failed(amqp_url: str) -> None:
    queue = _queue_name()
    declarer = LimitedQueues(url=amqp_url, middleware=[], max_length=60)
    messages = _messages(queue, 100)
    publisher = BulkPublisher(amqp_url, max_attempts=3, retry_backoff_s=0.01, declarer=declarer)
    try:
        result = publisher.publish(messages)
    finally:
        declarer.close()

    assert result.published == 60
    assert len(result.failed) == 40
    assert all("nacked by RabbitMQ (after 3 attempts)" in f.reason for f in result.failed)
    assert result.retried == 40 * 2
    queued = _queued_ids(amqp_url, queue)
    failed = {f.message_id for f in result.failed}
    assert len(queued) == 60
    assert failed.isdisjoint(queued)
    assert failed | set(queued) == {m.message_id for m in messages}


def test_a_message_returned_unroutable_is_sent_again_once_its_queue_is_declared(
    amqp_url: str,
) -> None:
    queue = _queue_name()
    declarer = LateDeclarer(url=amqp_url, middleware=[])
    messages = _messages(queue, 20)
    try:
        result = BulkPublisher(amqp_url, retry_backoff_s=0.01, declarer=declarer).publish(messages)
    finally:
        declarer.close()

    assert (result.published, result.failed, result.retried) == (20, [], 20)
    assert sorted(_queued_ids(amqp_url, queue)) == sorted(m.message_id for m in messages)


@pytest.mark.parametrize(
    ("fault", "reported"),
    [(Fault.STALL, "no confirm within 0.5s"), (Fault.CUT, "connection lost")],
)
def test_a_stalled_or_dropped_connection_loses_no_message(
    amqp_url: str, fault: Fault, reported: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = _queue_name()
    messages = _messages(queue, 3000)
    proxy = FaultyProxy(amqp_url, fault=fault, after_client_bytes=100_000)
    declarer = RabbitmqBroker(url=amqp_url, middleware=[])
    publisher = BulkPublisher(
        proxy.url, window=200, confirm_timeout_s=0.5, retry_backoff_s=0.01, declarer=declarer
    )
    try:
        with caplog.at_level("WARNING"):
            result = publisher.publish(messages)
    finally:
        proxy.close()
        declarer.close()

    assert proxy.fault_injected.is_set()
    assert proxy.connections >= 2
    assert reported in caplog.text
    assert (result.published, result.failed) == (len(messages), [])
    assert result.retried > 0
    # At least once: the stalled connection's messages may be there twice, none is missing.
    assert set(_queued_ids(amqp_url, queue)) == {m.message_id for m in messages}

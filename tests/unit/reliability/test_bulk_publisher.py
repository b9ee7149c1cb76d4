"""What a distributor sees when a bulk publish cannot succeed, and the publishers it can be given.

No RabbitMQ here: an unreachable port stands for a broker that is down.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from lineblocs_shared.queue.bulk import (
    BulkPublisher,
    EnqueuePublisher,
    RecordingMessagePublisher,
    bulk_publisher_for,
)
from lineblocs_shared.settings import load_settings


def _message(n: object) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name="q", actor_name="a", args=(n,), kwargs={}, options={})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_with_the_broker_down_every_message_is_reported_failed_none_published() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F"
    messages = [_message(n) for n in range(5)]
    result = BulkPublisher(url, max_attempts=2, retry_backoff_s=0.001).publish(iter(messages))

    assert result.published == 0
    assert [f.message_id for f in result.failed] == [m.message_id for m in messages]
    assert all("cannot connect to RabbitMQ" in f.reason for f in result.failed)


def test_a_message_json_cannot_encode_fails_without_touching_the_broker() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F"
    unencodable = _message(object())
    result = BulkPublisher(url).publish([unencodable])

    assert result.published == 0
    assert len(result.failed) == 1
    assert result.failed[0].message_id == unencodable.message_id
    assert result.failed[0].reason.startswith("encode:")


def test_the_recording_fake_keeps_messages_and_refuses_what_it_is_told_to() -> None:
    publisher = RecordingMessagePublisher(refuse=lambda m: "full" if m.args[0] == 2 else None)
    result = publisher.publish(_message(n) for n in range(4))

    assert [m.args[0] for m in publisher.published] == [0, 1, 3]
    assert result.published == 3
    assert [f.reason for f in result.failed] == ["full"]


def test_the_embedded_mode_publishes_through_the_in_process_broker(tmp_path: Path) -> None:
    settings = load_settings(
        queue_url="memory://", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    broker = StubBroker(middleware=[])
    broker.declare_queue("q")
    publisher = bulk_publisher_for(settings, broker)
    result = publisher.publish(_message(n) for n in range(3))

    assert isinstance(publisher, EnqueuePublisher)
    assert (result.published, result.failed) == (3, [])
    assert broker.queues["q"].qsize() == 3

"""Publishers of the outbox relay: the real one through a Dramatiq broker, and two fakes.

Any object with `publish_batch(messages) -> list[PublishOutcome]` fits the relay, so the
windowed bulk publisher (`bulk.py`) can replace `BrokerPublisher` without touching the relay.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.outbox.relay import PublishOutcome


class BrokerPublisher:
    """One confirmed enqueue per message, in order.

    A message that fails does not hold back the ones after it (one poison message must not
    block the outbox), but a run of failures means the broker is away: the rest of the batch
    is then reported unsent at once instead of each paying Dramatiq's reconnect attempts.
    """

    def __init__(self, broker: dramatiq.Broker, *, give_up_after: int = 3) -> None:
        if isinstance(broker, RabbitmqBroker) and not broker.confirm_delivery:
            raise ValueError("the outbox needs a broker with confirm_delivery=True")
        self._broker = broker
        self._give_up_after = give_up_after

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        outcomes: list[PublishOutcome] = []
        failures_in_a_row = 0
        for index, message in enumerate(messages):
            try:
                # With confirms on, enqueue returns only after RabbitMQ acked the message and
                # raises on a nack, an unroutable message or a lost connection.
                self._broker.enqueue(message)
            except Exception as exc:  # every failure becomes an outcome; the relay records it
                outcomes.append(PublishOutcome(message.message_id, describe_failure(exc)))
                failures_in_a_row += 1
                if failures_in_a_row >= self._give_up_after:
                    not_sent = f"not sent: the {failures_in_a_row} messages before it failed"
                    rest = messages[index + 1 :]
                    outcomes.extend(PublishOutcome(m.message_id, not_sent) for m in rest)
                    break
                continue
            failures_in_a_row = 0
            outcomes.append(PublishOutcome(message.message_id))
        return outcomes


class WindowedPublisher:
    """The relay on `bulk.py`'s windowed confirms: one round-trip per window, not per message.

    A bulk publisher reports every message it did not get confirmed; the rest were confirmed.
    """

    def __init__(self, bulk: MessagePublisher) -> None:
        self._bulk = bulk

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        failed = {
            failure.message_id: failure.reason for failure in self._bulk.publish(messages).failed
        }
        return [PublishOutcome(m.message_id, failed.get(m.message_id)) for m in messages]


def describe_failure(exc: Exception) -> str:
    """`ConnectionClosed: NackError: …`: Dramatiq wraps pika's error, keep both names."""
    text = f"{type(exc).__name__}: {exc}"
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, BaseException):
        return f"{type(exc).__name__}: {type(inner).__name__}: {inner}"
    return text


class RecordingOutboxPublisher:
    """Fake: confirms every message and keeps it, in publishing order. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[dramatiq.Message[Any]] = []

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        with self._lock:
            self.messages.extend(messages)
        return [PublishOutcome(m.message_id) for m in messages]

    @property
    def message_ids(self) -> list[str]:
        with self._lock:
            return [m.message_id for m in self.messages]


class FailingOutboxPublisher(RecordingOutboxPublisher):
    """Fake: reports the chosen message ids as failed (as a nack would), confirms the others."""

    def __init__(self, failing: Collection[str], *, error: str = "NackError: nacked") -> None:
        super().__init__()
        self.failing = set(failing)
        self._error = error

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        confirmed = [m for m in messages if m.message_id not in self.failing]
        super().publish_batch(confirmed)
        return [
            PublishOutcome(m.message_id, self._error if m.message_id in self.failing else None)
            for m in messages
        ]


def confirmed_publishing_broker(queue_url: str) -> RabbitmqBroker:
    """A RabbitMQ broker that only publishes, with confirms and no middleware.

    Not a worker's own broker: enqueueing to a queue declares it on that broker, and a worker
    started without `--queues` would begin consuming every queue its relay publishes to.
    """
    return RabbitmqBroker(url=queue_url, confirm_delivery=True, middleware=[])

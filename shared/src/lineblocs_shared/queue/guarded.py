"""Dramatiq's brokers with every delivered body read by `envelope.read_envelope` first.

Dramatiq's consumers decode a body and hand whatever comes out to its worker threads; a body
they cannot decode is logged and nacked, and nothing else knows of it. Ours read each body with
`read_envelope`: a refused one is nacked too (RabbitMQ keeps it in `Q.XQ`), and announced to the
middleware as `after_refuse_envelope(broker, refusal)` — the dead-letter recorder records it and
alerts once. A failing hook is logged, never raised, so a consumer thread never dies of a body
either.

The consumers' `__next__` is Dramatiq's own (2.2) with the decode step replaced; the rest of the
consumers is inherited.
"""

from __future__ import annotations

import logging
from queue import Empty
from typing import Any

import pika
from dramatiq import Broker
from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer, _RabbitmqMessage
from dramatiq.brokers.stub import StubBroker, _StubConsumer, _StubMessageProxy
from dramatiq.common import q_name
from dramatiq.errors import ConnectionClosed, QueueNotFound

from lineblocs_shared.queue.envelope import Refusal, read_envelope

logger = logging.getLogger(__name__)


def announce_refusal(broker: Broker, refusal: Refusal) -> None:
    """Call `after_refuse_envelope(broker, refusal)` on each middleware that has it. Not
    `emit_after`: Dramatiq's hooks are methods of every middleware, ours is not, and a hook
    that fails is logged, never raised into the consumer thread."""
    for middleware in broker.middleware:
        hook = getattr(middleware, "after_refuse_envelope", None)
        if hook is None:
            continue
        try:
            hook(broker, refusal)
        except Exception:
            logger.critical("after_refuse_envelope of %r failed", middleware, exc_info=True)


class GuardedRabbitmqBroker(RabbitmqBroker):
    def __init__(self, *, max_message_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self.max_message_bytes = max_message_bytes

    @property
    def consumer_class(self) -> type[_RabbitmqConsumer]:
        return GuardedRabbitmqConsumer


class GuardedRabbitmqConsumer(_RabbitmqConsumer):
    def __next__(self) -> _RabbitmqMessage | None:
        try:
            method, _properties, body = next(self.iterator)
            if method is None:
                return None
        except (
            AssertionError,
            pika.exceptions.AMQPConnectionError,
            pika.exceptions.AMQPChannelError,
        ) as e:
            # As Dramatiq does: a vanished queue is declared again when the consumer restarts.
            if getattr(e, "reply_code", None) == 404:
                self.broker.queues_pending.add(q_name(self.queue_name))
            raise ConnectionClosed(e) from None
        read = read_envelope(
            body, queue_name=self.queue_name, max_bytes=self.broker.max_message_bytes
        )
        if isinstance(read, Refusal):
            announce_refusal(self.broker, read)
            self._nack(method.delivery_tag)
            return None
        self.known_tags.add(method.delivery_tag)
        return _RabbitmqMessage(method.redelivered, method.delivery_tag, read)


class GuardedStubBroker(StubBroker):
    """The in-process broker of the embedded mode and of the tests, guarded alike."""

    def __init__(self, *, max_message_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self.max_message_bytes = max_message_bytes

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 100) -> _StubConsumer:
        try:
            return GuardedStubConsumer(
                self,
                queue_name,
                self.queues[queue_name],
                self.dead_letters_by_queue[queue_name],
                prefetch,
                timeout,
            )
        except KeyError:
            raise QueueNotFound(queue_name) from None


class GuardedStubConsumer(_StubConsumer):
    def __init__(self, broker: GuardedStubBroker, queue_name: str, *args: Any) -> None:
        super().__init__(*args)
        self.broker = broker
        self.queue_name = queue_name

    def __next__(self) -> _StubMessageProxy | None:
        if not self.prefetch_semaphore.acquire(timeout=self.timeout / 1000):
            return None
        try:
            data = self.queue.get(timeout=self.timeout / 1000)
        except Empty:
            self.prefetch_semaphore.release()
            return None
        read = read_envelope(
            data, queue_name=self.queue_name, max_bytes=self.broker.max_message_bytes
        )
        if isinstance(read, Refusal):
            announce_refusal(self.broker, read)
            self.queue.task_done()  # the stub's nack, without a message to keep
            self.prefetch_semaphore.release()
            return None
        return _StubMessageProxy(read)

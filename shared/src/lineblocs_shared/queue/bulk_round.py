"""One connection's worth of confirmed publishing, with a window of unconfirmed messages.

Why pika's `SelectConnection`: a `BlockingChannel` in confirm mode makes every `basic_publish`
wait for its own confirm — one round trip per message, which is what holds Dramatiq's
`confirm_delivery` near 1k msg/s. `SelectConnection` hands us each Basic.Ack/Nack as a callback
through pika's public API, so many messages can be in flight at once. Its IOLoop runs in the
calling thread until the round is over: `run()` stays a plain blocking call and no thread is
shared with pika.

A round ends when its feed runs dry and every message sent is answered, or early — lost
connection, closed channel, a confirm that takes too long, a queue that cannot be declared.
Whatever was sent and not confirmed comes back in `RoundOutcome.rejected` with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import dramatiq
import pika
import pika.exceptions
import pika.spec
from dramatiq.common import q_name

from lineblocs_shared.queue.bulk_confirms import ConfirmWindow, Pending

logger = logging.getLogger(__name__)

# How long a closing connection may take before the loop is left anyway: the graceful AMQP close
# waits for the broker's Close-Ok, which a stalled broker never sends.
CLOSE_GRACE_S = 2.0
# Exactly the properties Dramatiq's RabbitmqBroker.enqueue gives a message without a priority.
PERSISTENT = pika.BasicProperties(delivery_mode=2)


class Feed(Protocol):
    """Where a round takes the next message from, and gives back one it could not send."""

    def take(self) -> Pending | None: ...

    def put_back(self, pending: Pending) -> None: ...


@dataclass
class RoundOutcome:
    confirmed: int = 0
    sent: int = 0
    # Sent but not confirmed (nacked, returned unroutable, unanswered), each with the reason.
    rejected: list[tuple[Pending, str]] = field(default_factory=list)
    # Why the round ended before its feed ran dry; None when it ran to the end.
    error: str | None = None


def _properties(message: dramatiq.Message[Any]) -> pika.BasicProperties:
    priority = message.options.get("broker_priority")
    if priority is None:
        return PERSISTENT
    return pika.BasicProperties(delivery_mode=2, priority=priority)


class ConfirmedRound:
    """Publish from a feed over one new connection, at most `window` messages unconfirmed."""

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        feed: Feed,
        declare: Callable[[str], None],
        *,
        window: int,
        confirm_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._parameters = parameters
        self._feed = feed
        self._declare = declare
        self._window = ConfirmWindow(window)
        self._confirm_timeout_s = confirm_timeout_s
        self._watch_every_s = min(confirm_timeout_s / 4, 1.0)
        self._clock = clock
        self._outcome = RoundOutcome()
        self._declared: set[str] = set()
        self._returned: set[str] = set()
        self._closing = False
        self._connection: pika.SelectConnection | None = None
        self._channel: Any = None

    def run(self) -> RoundOutcome:
        connection = pika.SelectConnection(
            self._parameters,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_open_error,
            on_close_callback=self._on_connection_closed,
        )
        self._connection = connection
        try:
            connection.ioloop.start()
        finally:
            connection.ioloop.close()
        reason = self._outcome.error or "connection closed before the confirm"
        self._outcome.rejected.extend((pending, reason) for pending in self._window.abandon())
        return self._outcome

    # Connection and channel life cycle

    def _on_connection_open(self, connection: pika.SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_open_error(self, connection: Any, error: BaseException) -> None:
        self._outcome.error = f"cannot connect to RabbitMQ: {error!r}"
        connection.ioloop.stop()

    def _on_connection_closed(self, connection: Any, reason: BaseException) -> None:
        if not self._closing:
            self._outcome.error = f"connection lost: {reason!r}"
        connection.ioloop.stop()

    def _on_channel_open(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirming)

    def _on_channel_closed(self, _channel: Any, reason: BaseException) -> None:
        # A lost connection closes its channels first, with the connection's error.
        lost = isinstance(reason, pika.exceptions.AMQPConnectionError)
        self._abort(f"{'connection lost' if lost else 'channel closed'}: {reason!r}")

    def _on_confirming(self, _frame: Any) -> None:
        self._watch_confirms()
        self._fill_window()

    # Publishing and confirms

    def _fill_window(self) -> None:
        while self._window.has_room and not self._closing:
            pending = self._feed.take()
            if pending is None:
                if not self._window:
                    self._finish()
                return
            if not self._send(pending):
                return

    def _send(self, pending: Pending) -> bool:
        queue = q_name(pending.message.queue_name)
        try:
            if queue not in self._declared:
                # A blocking declare on the declarer's own connection: once per queue per round.
                self._declare(queue)
                self._declared.add(queue)
            self._channel.basic_publish(
                exchange="",
                routing_key=pending.message.queue_name,
                body=pending.body,
                properties=_properties(pending.message),
                # Unroutable (queue deleted meanwhile) comes back as Basic.Return before the ack.
                mandatory=True,
            )
        except Exception as exc:
            self._feed.put_back(pending)
            self._abort(f"cannot publish to {queue}: {exc!r}")
            return False
        self._window.sent(pending, now=self._clock())
        self._outcome.sent += 1
        return True

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, pika.spec.Basic.Ack)
        for pending in self._window.settle(method.delivery_tag, multiple=method.multiple):
            message_id = pending.message.message_id
            if not acked:
                self._outcome.rejected.append((pending, "nacked by RabbitMQ"))
            elif message_id in self._returned:
                self._returned.discard(message_id)
                queue = pending.message.queue_name
                self._outcome.rejected.append((pending, f"unroutable: no queue {queue}"))
            else:
                self._outcome.confirmed += 1
        self._fill_window()

    def _on_return(self, _channel: Any, _method: Any, _properties: Any, body: bytes) -> None:
        self._returned.add(dramatiq.Message.decode(body).message_id)

    def _watch_confirms(self) -> None:
        if self._closing or self._connection is None:
            return
        if self._window.oldest_wait(now=self._clock()) > self._confirm_timeout_s:
            self._abort(f"no confirm within {self._confirm_timeout_s:g}s")
            return
        self._connection.ioloop.call_later(self._watch_every_s, self._watch_confirms)

    # Ending the round

    def _finish(self) -> None:
        self._close()

    def _abort(self, reason: str) -> None:
        if self._closing:
            return
        self._outcome.error = reason
        logger.warning("bulk publish: ending a round early: %s", reason)
        self._close()

    def _close(self) -> None:
        self._closing = True
        connection = self._connection
        if connection is None:
            return
        # pika has no public abort: a connection left by this deadline is abandoned unclosed,
        # and its socket closes when the object is collected.
        connection.ioloop.call_later(CLOSE_GRACE_S, connection.ioloop.stop)
        if not (connection.is_closing or connection.is_closed):
            connection.close()

"""Confirmed bulk publishing of Dramatiq messages, for distributors that fan out thousands.

`BulkPublisher` writes messages exactly as Dramatiq's `RabbitmqBroker.enqueue` does (same body,
same persistent properties, queues declared by a `RabbitmqBroker` so `Q.DQ`/`Q.XQ` and their
arguments match), but keeps a window of messages awaiting publisher confirms instead of waiting
for each one. A message counts as published only once RabbitMQ has acked it. A nack, an
unroutable return, a confirm that takes too long or a lost connection sends the message again on
a new connection, up to `max_attempts` publishes; then it is reported in `BulkResult.failed`.

Delivery is at-least-once: a message RabbitMQ took but whose confirm was lost is sent again, so
a queue can hold a duplicate. Every consumer is idempotent, so that is safe.
Broker middleware is not run (no `before_enqueue`/`after_enqueue`): this is a transport.

Distributors depend on `MessagePublisher`; tests give them a `RecordingMessagePublisher`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from lineblocs_shared.queue.bulk_confirms import Pending
from lineblocs_shared.queue.bulk_round import ConfirmedRound, RoundOutcome
from lineblocs_shared.settings import Settings

logger = logging.getLogger(__name__)

# Measured (benchmarks/, docs/benchmarks.md): throughput plateaus from 1000 to 3000 unconfirmed
# messages here; 2000 small messages in flight are well under a MiB.
DEFAULT_WINDOW = 2000
DEFAULT_CONFIRM_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 5
MAX_RETRY_BACKOFF_S = 5.0


class PublishFailure(NamedTuple):
    message_id: str
    reason: str


@dataclass
class BulkResult:
    published: int = 0
    failed: list[PublishFailure] = field(default_factory=list)
    # Publishes repeated after a nack, a return, a confirm timeout or a lost connection.
    retried: int = 0


class MessagePublisher(Protocol):
    """Publishes many messages; every one is either confirmed (counted) or reported failed."""

    def publish(self, messages: Iterable[dramatiq.Message[Any]]) -> BulkResult: ...


class _Feed:
    """The messages still to send: retries first, then the caller's iterable, read lazily."""

    def __init__(self, messages: Iterable[dramatiq.Message[Any]], result: BulkResult) -> None:
        self._source: Iterator[dramatiq.Message[Any]] | None = iter(messages)
        self._backlog: deque[Pending] = deque()
        self._result = result
        # The caller's iterable failed: raised by publish() once the round in flight is settled.
        # (Raised inside pika's IOLoop it would pass for a lost connection and end publish()
        # quietly with part of the messages unsent.)
        self.source_error: Exception | None = None

    def take(self) -> Pending | None:
        if self._backlog:
            return self._backlog.popleft()
        while self._source is not None:
            try:
                message = next(self._source)
            except StopIteration:
                self._source = None
                break
            except Exception as exc:
                self.source_error, self._source = exc, None
                break
            try:
                return Pending(message=message, body=message.encode())
            except Exception as exc:  # an argument JSON cannot encode: no attempt can succeed
                self._result.failed.append(PublishFailure(message.message_id, f"encode: {exc!r}"))
        return None

    def put_back(self, pending: Pending) -> None:
        self._backlog.appendleft(pending)

    def retry(self, pending: Pending) -> None:
        self._backlog.append(pending)

    @property
    def exhausted(self) -> bool:
        if not self._backlog:
            pending = self.take()
            if pending is None:
                return True
            self.put_back(pending)
        return False


class BulkPublisher:
    """Publishes Dramatiq messages to RabbitMQ with windowed publisher confirms.

    `declarer` declares queues (pass the process's broker when it uses `max_priority`, so the
    arguments match); by default each `publish()` uses a middleware-less `RabbitmqBroker` on the
    same URL and closes it at the end.
    """

    def __init__(
        self,
        amqp_url: str,
        *,
        window: int = DEFAULT_WINDOW,
        confirm_timeout_s: float = DEFAULT_CONFIRM_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_backoff_s: float = 0.2,
        declarer: RabbitmqBroker | None = None,
    ) -> None:
        if window < 1 or max_attempts < 1 or confirm_timeout_s <= 0:
            raise ValueError("window and max_attempts must be >= 1, confirm_timeout_s > 0")
        self._amqp_url = amqp_url
        self._parameters = pika.URLParameters(amqp_url)
        self._window = window
        self._confirm_timeout_s = confirm_timeout_s
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._declarer = declarer

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> BulkPublisher:
        return cls(settings.queue_url, **options)

    def publish(self, messages: Iterable[dramatiq.Message[Any]]) -> BulkResult:
        result = BulkResult()
        feed = _Feed(messages, result)
        declarer = self._declarer or RabbitmqBroker(url=self._amqp_url, middleware=[])
        rounds_without_send = 0
        troubled_rounds = 0
        try:
            while not feed.exhausted:
                outcome = self._round(feed, declarer).run()
                result.published += outcome.confirmed
                self._requeue_or_fail(outcome, feed, result)
                rounds_without_send = 0 if outcome.sent else rounds_without_send + 1
                if rounds_without_send >= self._max_attempts:
                    self._fail_rest(feed, result, outcome.error or "no progress")
                    break
                if outcome.error or outcome.rejected:
                    troubled_rounds += 1
                    time.sleep(self._backoff(troubled_rounds))
                else:
                    troubled_rounds = 0
        finally:
            if declarer is not self._declarer:
                declarer.close()
        if feed.source_error is not None:
            raise feed.source_error
        if result.failed:
            logger.error(
                "bulk publish: %d published, %d failed (first: %s)",
                result.published,
                len(result.failed),
                result.failed[0].reason,
            )
        return result

    def _round(self, feed: _Feed, declarer: RabbitmqBroker) -> ConfirmedRound:
        def declare(queue: str) -> None:
            # Again in each round: a queue deleted meanwhile (an unroutable return) comes back.
            declarer.queues_pending.add(queue)
            declarer.declare_queue(queue, ensure=True)

        return ConfirmedRound(
            self._parameters,
            feed,
            declare,
            window=self._window,
            confirm_timeout_s=self._confirm_timeout_s,
        )

    def _requeue_or_fail(self, outcome: RoundOutcome, feed: _Feed, result: BulkResult) -> None:
        for pending, reason in outcome.rejected:
            if pending.attempts >= self._max_attempts:
                failure = f"{reason} (after {pending.attempts} attempts)"
                result.failed.append(PublishFailure(pending.message.message_id, failure))
            else:
                result.retried += 1
                feed.retry(pending)
        if outcome.rejected:
            logger.warning(
                "bulk publish: %d message(s) unconfirmed (%s); retrying those under %d attempts",
                len(outcome.rejected),
                outcome.rejected[0][1],
                self._max_attempts,
            )

    @staticmethod
    def _fail_rest(feed: _Feed, result: BulkResult, reason: str) -> None:
        while (pending := feed.take()) is not None:
            result.failed.append(PublishFailure(pending.message.message_id, reason))

    def _backoff(self, troubled_rounds: int) -> float:
        return float(min(self._retry_backoff_s * 2 ** (troubled_rounds - 1), MAX_RETRY_BACKOFF_S))


class EnqueuePublisher:
    """One `broker.enqueue` per message: for the in-process broker (demo, embedded mode)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def publish(self, messages: Iterable[dramatiq.Message[Any]]) -> BulkResult:
        result = BulkResult()
        for message in messages:
            try:
                self._broker.enqueue(message)
            except Exception as exc:
                result.failed.append(PublishFailure(message.message_id, repr(exc)))
            else:
                result.published += 1
        return result


def bulk_publisher_for(settings: Settings, broker: dramatiq.Broker) -> MessagePublisher:
    """The bulk publisher a composition root hands to its distributors."""
    if settings.uses_embedded_broker:
        return EnqueuePublisher(broker)
    declarer = broker if isinstance(broker, RabbitmqBroker) else None
    return BulkPublisher.from_settings(settings, declarer=declarer)


class RecordingMessagePublisher:
    """Fake for unit tests: keeps what it was given; `refuse` names messages it reports failed."""

    def __init__(self, refuse: Callable[[dramatiq.Message[Any]], str | None] | None = None) -> None:
        self.published: list[dramatiq.Message[Any]] = []
        self._refuse = refuse or (lambda _message: None)

    def publish(self, messages: Iterable[dramatiq.Message[Any]]) -> BulkResult:
        result = BulkResult()
        for message in messages:
            reason = self._refuse(message)
            if reason is None:
                self.published.append(message)
                result.published += 1
            else:
                result.failed.append(PublishFailure(message.message_id, reason))
        return result

"""Record and alert every dead letter, in the two hooks all of them pass.

Whatever kills a message — a fatal error or exhausted retries (`ClassifiedRetries`), the age
limit (`AgeLimit`), an actor this process does not know (the worker itself) — ends in
`message.fail()`, then a nack (RabbitMQ moves it to `Q.XQ`, the stub broker to its dead-letter
list), then `after_nack`. A body refused before it became a message (`queue/guarded.py`) is
nacked by the consumer, which announces it with `after_refuse_envelope`.

One record per message id (the store refreshes a repeated one) and one alert per record: the
alert is claimed in the database first (`claim_alert`), so concurrent deliveries of one poison
message alert once. A claim whose alert could not be sent is released for the next delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis, q_name
from dramatiq.middleware import AgeLimit, Middleware, SkipMessage

from lineblocs_shared.clock import Clock, SystemClock
from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus
from lineblocs_shared.queue.envelope import Malformed as MalformedMessage
from lineblocs_shared.queue.envelope import Refusal
from lineblocs_shared.reliability.failures import options as failure
from lineblocs_shared.reliability.failures.alerts import Alerter
from lineblocs_shared.reliability.failures.options import DeadLetterReason
from lineblocs_shared.reliability.failures.store import DeadLetterStore
from lineblocs_shared.reliability.observability import metrics
from lineblocs_shared.reliability.observability.redaction import (
    mask_secrets,
    redact_arguments,
    scrub_text,
)
from lineblocs_shared.reliability.periodic.ledger import RunLedger

logger = logging.getLogger(__name__)


class DeadLetterRecorder(Middleware):
    def __init__(
        self,
        *,
        store: DeadLetterStore,
        alerter: Alerter,
        ledger: RunLedger | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._alerter = alerter
        self._ledger = ledger
        self._clock = clock or SystemClock()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        # AgeLimit fails the message, then skips it: tell that apart from other skips.
        if message.failed and failure.REASON not in message.options:
            reason = (
                DeadLetterReason.AGE_LIMIT
                if over_age_limit(broker, message)
                else DeadLetterReason.REJECTED
            )
            message.options[failure.REASON] = reason.value

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        reason = reason_of(broker, message)
        exception = actor_exception(message, reason)
        letter = dead_letter_of(message, reason=reason, exception=exception, now=self._now())
        self._dead_letter(letter, exception)

    def after_refuse_envelope(self, broker: dramatiq.Broker, refusal: Refusal) -> None:
        self._dead_letter(refused_letter(refusal, now=self._now()), None)

    def _now(self) -> datetime:
        return self._clock.now()

    def _dead_letter(self, letter: DeadLetter, exception: BaseException | None) -> None:
        metrics.record_dead_letter(letter.actor_name, letter.queue_name, letter.reason)
        stored = self._record(letter)
        self._mark_runs_dead(letter)
        if stored is None or stored.id is None:
            self._send(letter, exception)  # unrecorded: alert all the same, tagged so
            return
        if not self._store.claim_alert(stored.id, at=letter.last_seen_at):
            return  # alerted already: by an earlier delivery, or a concurrent one
        if self._send(stored, exception) is None:
            self._release_alert(stored.id)

    def _send(self, letter: DeadLetter, exception: BaseException | None) -> str | None:
        try:
            return self._alerter.alert(letter, exception)
        except Exception:
            logger.exception("could not alert on dead letter of message %s", letter.message_id)
            return None

    def _release_alert(self, dead_letter_id: int) -> None:
        try:
            self._store.release_alert(dead_letter_id)
        except Exception:
            logger.exception("could not release the alert claim of dead letter %s", dead_letter_id)

    def _record(self, letter: DeadLetter) -> DeadLetter | None:
        try:
            return self._store.record(letter)
        except Exception:
            # The alert still goes out (tagged "unrecorded"); RabbitMQ keeps its XQ copy.
            logger.exception("could not record dead letter of message %s", letter.message_id)
            return None

    def _mark_runs_dead(self, letter: DeadLetter) -> None:
        # A run whose retries ran out would otherwise stay FAILED in the ledger forever.
        if self._ledger is None:
            return
        cause = f"{letter.exception_class or ''} {letter.exception_text or ''}".strip()
        error = f"dead-lettered ({letter.reason}): {cause}"
        try:
            self._ledger.mark_dead(message_id=letter.message_id, error=error)
        except Exception:
            logger.exception("could not mark the runs of message %s dead", letter.message_id)


def reason_of(broker: dramatiq.Broker, message: MessageProxy) -> DeadLetterReason:
    noted = message.options.get(failure.REASON)
    if noted is not None:
        return DeadLetterReason(noted)
    if message.actor_name not in broker.actors:
        return DeadLetterReason.UNKNOWN_ACTOR
    return DeadLetterReason.REJECTED


def actor_exception(message: MessageProxy, reason: DeadLetterReason) -> BaseException | None:
    """The exception that killed the message, if one did (an age limit is not an exception)."""
    if reason is DeadLetterReason.AGE_LIMIT:
        return None
    # Dramatiq keeps the exception on the message proxy until post-processing (this hook) ends.
    exception = getattr(message, "_exception", None)
    if isinstance(exception, BaseException) and not isinstance(exception, SkipMessage):
        return exception
    return None


def over_age_limit(broker: dramatiq.Broker, message: MessageProxy) -> bool:
    default = next((m.max_age for m in broker.middleware if isinstance(m, AgeLimit)), None)
    actor = broker.actors.get(message.actor_name)
    max_age = message.options.get("max_age") or (
        actor.options.get("max_age", default) if actor is not None else default
    )
    if not max_age:
        return False
    return current_millis() - message.message_timestamp >= int(max_age)


def dead_letter_of(
    message: MessageProxy,
    *,
    reason: DeadLetterReason,
    exception: BaseException | None,
    now: datetime,
) -> DeadLetter:
    """The record of a dead message: arguments redacted, error text scrubbed."""
    options = message.options
    if exception is not None:
        error_class: str | None = failure.error_class_name(exception)
        error_text: str | None = str(exception)[: failure.MAX_ERROR_TEXT]
        trace: str | None = "".join(traceback.format_exception(exception, limit=30))
    else:  # the last failed attempt, if any, before the age limit struck
        error_class = options.get(failure.ERROR_CLASS)
        error_text = options.get(failure.ERROR_TEXT)
        trace = options.get(failure.TRACEBACK)
    kept_options = {k: v for k, v in options.items() if k not in failure.DELIVERY_HISTORY}
    return DeadLetter(
        message_id=message.message_id,
        queue_name=q_name(message.queue_name),
        actor_name=message.actor_name,
        args=_json(redact_arguments(list(message.args))),
        kwargs=_json(redact_arguments(dict(message.kwargs))),
        options=_json(redact_arguments(kept_options)),
        reason=reason.value,
        exception_class=error_class[:191] if error_class else None,
        exception_text=scrub_text(error_text) if error_text else None,
        traceback=scrub_text(trace) if trace else None,
        attempts=int(options.get(failure.RETRIES, 0)),
        first_seen_at=datetime.fromtimestamp(message.message_timestamp / 1000, UTC),
        last_seen_at=now,
        status=DeadLetterStatus.DEAD,
    )


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


# What a refused body's record keeps of it; the column is a BLOB (64 KiB).
RAW_BODY_KEPT = 16 * 1024
UNREADABLE = "?"


def refused_letter(refusal: Refusal, *, now: datetime) -> DeadLetter:
    """The record of a body refused before it became a message: what could be read of it, the
    problem, its length, and its first bytes with secrets masked (none of an oversized one)."""
    kept = None if refusal.reason == DeadLetterReason.OVERSIZED else refusal.body[:RAW_BODY_KEPT]
    return DeadLetter(
        message_id=refusal.message_id or raw_message_id(refusal.body),
        queue_name=q_name(refusal.queue_name),
        actor_name=refusal.actor_name or UNREADABLE,
        args="[]",
        kwargs="{}",
        options="{}",
        reason=DeadLetterReason(refusal.reason).value,
        exception_class=failure.error_class_name(MalformedMessage()),
        exception_text=scrub_text(refusal.problem),
        traceback=None,
        attempts=0,
        first_seen_at=now,
        last_seen_at=now,
        status=DeadLetterStatus.DEAD,
        raw_body=None if kept is None else mask_bytes(kept),
        body_length=refusal.size,
    )


def raw_message_id(body: bytes) -> str:
    """A body without a usable message id gets one from its bytes: the same bytes published
    again are the same dead letter (one record, one alert)."""
    return "raw-" + hashlib.sha256(body).hexdigest()[:40]


def mask_bytes(body: bytes) -> bytes:
    """`body` with secrets masked; byte for byte the same elsewhere, UTF-8 or not."""
    return mask_secrets(body.decode("latin-1")).encode("latin-1", errors="replace")

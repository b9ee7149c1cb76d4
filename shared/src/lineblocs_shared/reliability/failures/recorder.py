"""Record and alert every dead letter, in the one hook all of them pass: `after_nack`.

Whatever kills a message — a fatal error or exhausted retries (`ClassifiedRetries`), the age
limit (`AgeLimit`), an actor this process does not know (the worker itself) — ends in
`message.fail()`, then a nack (RabbitMQ moves it to `Q.XQ`, the stub broker to its dead-letter
list), then `after_nack`. Recording there gives exactly one record and one alert per message.
"""

from __future__ import annotations

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
from lineblocs_shared.reliability.failures import options as failure
from lineblocs_shared.reliability.failures.alerts import Alerter
from lineblocs_shared.reliability.failures.options import DeadLetterReason
from lineblocs_shared.reliability.failures.store import DeadLetterStore
from lineblocs_shared.reliability.observability import metrics
from lineblocs_shared.reliability.observability.redaction import redact_arguments, scrub_text
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
        now = self._clock.now()
        reason = reason_of(broker, message)
        exception = actor_exception(message, reason)
        letter = dead_letter_of(message, reason=reason, exception=exception, now=now)
        metrics.record_dead_letter(letter.actor_name, letter.queue_name, letter.reason)
        stored = self._record(letter)
        self._mark_runs_dead(letter)
        if stored is not None and stored.alerted_at is not None:
            return  # alerted when this message was first dead-lettered
        try:
            alert_id = self._alerter.alert(stored or letter, exception)
        except Exception:
            logger.exception("could not alert on dead letter %s", message.message_id)
            return
        if stored is not None and stored.id is not None and alert_id is not None:
            try:
                self._store.mark_alerted(stored.id, at=now)
            except Exception:
                logger.exception("could not mark dead letter %s alerted", stored.id)

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

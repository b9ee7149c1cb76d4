"""Retries that know fatal from transient, in place of Dramatiq's `Retries`.

- fatal (by `classify`, or listed in the actor's `throws`): `message.fail()` at once, no retry;
- transient: a copy goes back to the queue's delay queue with capped exponential backoff and
  jitter, the original is acked; when the actor's retries or its retry window run out, the
  message is failed instead. A message is either re-enqueued or failed, never both.

Failed messages are nacked into `Q.XQ`; `DeadLetterRecorder` writes the record and the alert.
Per-actor options (also per message, like Dramatiq's): `max_retries`, `min_backoff` and
`max_backoff` (ms), `retry_for_ms` (no retry is scheduled later than this after the first failure).
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis
from dramatiq.errors import Retry
from dramatiq.middleware import Middleware, MiddlewareError

from lineblocs_shared.reliability.failures import options as failure
from lineblocs_shared.reliability.failures.options import DeadLetterReason
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify

logger = logging.getLogger(__name__)

# Delayed messages wait unacked in worker memory and RabbitMQ's consumer_timeout (30 min) cuts
# them off: no single delay may come near it, and retrying is a matter of minutes, not days.
MAX_BACKOFF_CEILING_MS = 15 * 60_000
MAX_RETRY_WINDOW_MS = 6 * 60 * 60_000
MAX_RETRIES_CEILING = 50


class RetryPolicyError(MiddlewareError):
    """An actor asks for retry options outside what the platform allows."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    min_backoff: int = 1_000  # ms before the first retry (at least)
    max_backoff: int = 5 * 60_000  # ms, the cap of any one delay
    retry_for_ms: int = 30 * 60_000  # ms after the first failure within which retries happen

    def backoff_ms(self, retries_so_far: int, jitter: float) -> int:
        """Delay before the next retry; `jitter` in [0, 1) spreads retries of many messages."""
        base = self.min_backoff * 2 ** min(retries_so_far, 30)
        delay = base * (1 + jitter)
        if delay > self.max_backoff:
            # At the cap, keep some spread: between half and all of max_backoff.
            delay = self.max_backoff * (0.5 + jitter / 2)
        return max(int(delay), 0)

    def check(self, owner: str) -> None:
        problems = []
        if not 0 <= self.max_retries <= MAX_RETRIES_CEILING:
            problems.append(f"max_retries must be 0..{MAX_RETRIES_CEILING}")
        if not 0 < self.min_backoff <= self.max_backoff <= MAX_BACKOFF_CEILING_MS:
            problems.append(f"need 0 < min_backoff <= max_backoff <= {MAX_BACKOFF_CEILING_MS} ms")
        if not 0 < self.retry_for_ms <= MAX_RETRY_WINDOW_MS:
            problems.append(f"retry_for_ms must be 1..{MAX_RETRY_WINDOW_MS} ms")
        if problems:
            raise RetryPolicyError(f"retry options of {owner}: {'; '.join(problems)}")


POLICY_OPTIONS = ("max_retries", "min_backoff", "max_backoff", "retry_for_ms")


def policy_for(default: RetryPolicy, *layers: dict[str, Any]) -> RetryPolicy:
    """The default overridden by actor options, then by message options (later layers win)."""
    chosen = {
        name: layer[name]
        for layer in layers
        for name in POLICY_OPTIONS
        if layer.get(name) is not None
    }
    return replace(default, **chosen)


class ClassifiedRetries(Middleware):
    def __init__(
        self,
        *,
        default: RetryPolicy | None = None,
        now_ms: Callable[[], int] = current_millis,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.default = default or RetryPolicy()
        self.default.check("the default retry policy")
        self._now_ms = now_ms
        self._jitter = jitter

    @property
    def actor_options(self) -> set[str]:
        return {*POLICY_OPTIONS, "throws"}

    def before_declare_actor(
        self, broker: dramatiq.Broker, actor: dramatiq.Actor[Any, Any]
    ) -> None:
        policy_for(self.default, actor.options).check(f"actor {actor.actor_name}")

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            return
        actor = broker.get_actor(message.actor_name)
        retries_so_far = self._note_failure(message, exception)
        if self._is_fatal(exception, actor, message):
            self._dead_letter(message, DeadLetterReason.FATAL, exception)
            return
        policy = policy_for(self.default, actor.options, message.options)
        delay = self._delay(policy, retries_so_far, exception)
        window_end = message.options[failure.FIRST_FAILURE_AT] + policy.retry_for_ms
        if retries_so_far >= policy.max_retries or self._now_ms() + delay > window_end:
            self._dead_letter(message, DeadLetterReason.RETRIES_EXHAUSTED, exception)
            return
        logger.info(
            "retrying message %s of %s in %d ms (retry %d of %d) after %s",
            message.message_id,
            message.actor_name,
            delay,
            retries_so_far + 1,
            policy.max_retries,
            type(exception).__name__,
        )
        try:
            broker.enqueue(message.copy(), delay=delay)
        except Exception:
            # Acking now would lose the message: dead-letter it instead (recorded, replayable).
            logger.exception("could not schedule the retry of message %s", message.message_id)
            self._dead_letter(message, DeadLetterReason.RETRY_NOT_SCHEDULED, exception)

    def _note_failure(self, message: MessageProxy, exception: BaseException) -> int:
        """Record the attempt in the message options; returns the retries done before it."""
        options = message.options
        retries_so_far = int(options.get(failure.RETRIES, 0))
        now = self._now_ms()
        options[failure.RETRIES] = retries_so_far + 1
        options[failure.TRACEBACK] = "".join(traceback.format_exception(exception, limit=30))
        options[failure.REQUEUE_TIMESTAMP] = now
        options[failure.ERROR_CLASS] = failure.error_class_name(exception)
        options[failure.ERROR_TEXT] = str(exception)[: failure.MAX_ERROR_TEXT]
        options.setdefault(failure.FIRST_FAILURE_AT, now)
        return retries_so_far

    @staticmethod
    def _is_fatal(
        exception: BaseException, actor: dramatiq.Actor[Any, Any], message: MessageProxy
    ) -> bool:
        throws = message.options.get("throws") or actor.options.get("throws")
        if throws and isinstance(exception, throws):
            return True
        return classify(exception) is ErrorKind.FATAL

    def _delay(self, policy: RetryPolicy, retries_so_far: int, exception: BaseException) -> int:
        if isinstance(exception, Retry) and exception.delay is not None:
            return min(int(exception.delay), policy.max_backoff)
        return policy.backoff_ms(retries_so_far, self._jitter())

    @staticmethod
    def _dead_letter(
        message: MessageProxy, reason: DeadLetterReason, exception: BaseException
    ) -> None:
        logger.warning(
            "dead-lettering message %s of %s (%s) after %d attempt(s): %s",
            message.message_id,
            message.actor_name,
            reason.value,
            message.options[failure.RETRIES],
            type(exception).__name__,
        )
        message.options[failure.REASON] = reason.value
        message.fail()

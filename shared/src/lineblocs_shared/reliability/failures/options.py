"""What our middleware notes on a failing message, in its options, for the next one to read."""

from __future__ import annotations

from enum import StrEnum


class DeadLetterReason(StrEnum):
    FATAL = "fatal"  # a fatal error: never retried
    RETRIES_EXHAUSTED = "retries_exhausted"  # transient, but out of retries or of time
    RETRY_NOT_SCHEDULED = "retry_not_scheduled"  # the broker refused the retry's copy
    AGE_LIMIT = "age_limit"  # waited in the queue longer than its max_age
    UNKNOWN_ACTOR = "unknown_actor"  # no actor of that name in this process
    REJECTED = "rejected"  # failed by some other middleware
    MALFORMED = "malformed"  # a body that is not a message of ours: refused unread
    OVERSIZED = "oversized"  # a body over MAX_MESSAGE_BYTES: refused unread, size kept only


# Dramatiq's own keys (kept compatible: `retries` counts failed attempts so far).
RETRIES = "retries"
TRACEBACK = "traceback"
REQUEUE_TIMESTAMP = "requeue_timestamp"
ETA = "eta"
# Ours.
REASON = "dead_letter_reason"
ERROR_CLASS = "error_class"
ERROR_TEXT = "error_text"
FIRST_FAILURE_AT = "first_failure_at"  # epoch ms of the first failed attempt
REPLAY_OF = "replay_of"  # id of the dead-letter record a replayed message comes from

# Bookkeeping of one delivery history: a replayed message starts without it ("fresh retries").
DELIVERY_HISTORY = frozenset(
    {RETRIES, TRACEBACK, REQUEUE_TIMESTAMP, ETA, REASON, ERROR_CLASS, ERROR_TEXT, FIRST_FAILURE_AT}
)
MAX_ERROR_TEXT = 2000


def error_class_name(exc: BaseException) -> str:
    """`module.Class` of an exception, as stored and shown."""
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )

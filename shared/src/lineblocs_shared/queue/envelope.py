"""Reading a raw AMQP body into a Dramatiq message, or refusing it with a reason.

Dramatiq trusts the body it decodes: an `options` that is not an object, a `queue_name` that
is not the queue it came from, an option of the wrong type or a `throws` it will `isinstance`
against — each kills the worker or consumer thread that meets it, or loses the message. So every
body is read here first, by the consumer (`guarded.py`), before Dramatiq sees it. A refused body
never reaches a middleware or an actor: it is recorded as a dead letter (`Refusal`) and nacked.

What is checked: the size (over `max_bytes` the body is not even decoded), UTF-8, JSON, an
object with exactly the message's fields and their types, the names and the id within our
columns' lengths, the queue it was consumed from, and the types of the options our middleware
and Dramatiq's read. Options that make Dramatiq call other actors (callbacks, pipelines) are
refused: nothing of ours sends them, so a message that has them did not come from us.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq

# Counts and milliseconds above this are no setting of ours: arithmetic on them overflows.
MAX_COUNT = 2**53
# Our columns (lbj_dead_letters): a longer name or id could not even be recorded.
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 96
FIELDS = frozenset(
    {"queue_name", "actor_name", "args", "kwargs", "options", "message_id", "message_timestamp"}
)
# Options whose values our middleware or Dramatiq's read, and the types they must have.
NUMBER_OPTIONS = frozenset({"eta", "requeue_timestamp", "first_failure_at"})
COUNT_OPTIONS = frozenset(
    {
        "max_age",
        "time_limit",
        "max_retries",
        "min_backoff",
        "max_backoff",
        "retry_for_ms",
        "retries",
        "replay_of",
        "broker_priority",
    }
)
TEXT_OPTIONS = frozenset(
    {"traceback", "error_class", "error_text", "dead_letter_reason", "scheduled_at", "event_id"}
)
# Options that make Dramatiq enqueue other messages or match exceptions: never ours.
REFUSED_OPTIONS = frozenset(
    {
        "throws",
        "on_success",
        "on_failure",
        "on_retry_exhausted",
        "pipe_target",
        "pipe_ignore",
        "group_completion_uuid",
        "group_completion_callbacks",
        "retry_when",
        "store_results",
        "result_ttl",
        "delay",
    }
)


class Malformed(ValueError):
    """A body that is not a message of ours."""


@dataclass(frozen=True)
class Refusal:
    """A body refused before Dramatiq saw it: what could be read of it, and why."""

    queue_name: str  # the queue it was consumed from
    body: bytes
    reason: str  # "oversized" or "malformed"
    problem: str  # one line, for the dead letter and the alert
    message_id: str | None = None  # when the body names a usable one
    actor_name: str | None = None

    @property
    def size(self) -> int:
        return len(self.body)


def read_envelope(
    body: bytes, *, queue_name: str, max_bytes: int
) -> dramatiq.Message[Any] | Refusal:
    """The message in `body`, consumed from `queue_name`, or why it is refused."""
    if len(body) > max_bytes:
        problem = f"message of {len(body):,} bytes is over the limit of {max_bytes:,} bytes"
        return Refusal(queue_name, body, "oversized", problem)
    try:
        fields = _decode(body)
    except Malformed as exc:
        return Refusal(queue_name, body, "malformed", str(exc))
    try:
        return _message_of(fields, queue_name=queue_name)
    except Malformed as exc:
        readable = fields if isinstance(fields, dict) else {}
        return Refusal(
            queue_name,
            body,
            "malformed",
            str(exc),
            message_id=_usable(readable.get("message_id"), MAX_ID_LENGTH),
            actor_name=_usable(readable.get("actor_name"), MAX_NAME_LENGTH),
        )


def _decode(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Malformed(f"body is not JSON ({exc.msg} at character {exc.pos})") from None
    except (ValueError, RecursionError) as exc:  # an integer of 4,300+ digits, a deep nesting
        raise Malformed(f"body is not JSON we read ({type(exc).__name__})") from None


def _message_of(fields: Any, *, queue_name: str) -> dramatiq.Message[Any]:
    if not isinstance(fields, dict):
        raise Malformed(f"body is JSON {type(fields).__name__}, not an object")
    if fields.keys() != FIELDS:
        missing, extra = sorted(FIELDS - fields.keys()), sorted(fields.keys() - FIELDS)
        raise Malformed(f"envelope fields: missing {missing or 'none'}, unknown {extra or 'none'}")
    _name(fields, "actor_name", MAX_NAME_LENGTH)
    _name(fields, "message_id", MAX_ID_LENGTH)
    if fields["queue_name"] != queue_name:
        raise Malformed(f"queue_name {_shown(fields['queue_name'])} but consumed from {queue_name}")
    _typed(fields, "args", list)
    _typed(fields, "kwargs", dict)
    _typed(fields, "options", dict)
    if not _is_number(fields["message_timestamp"]):
        raise Malformed(f"message_timestamp {_shown(fields['message_timestamp'])} is not a number")
    _check_options(fields["options"])
    return dramatiq.Message(**fields)


def _check_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key in REFUSED_OPTIONS:
            raise Malformed(f"option {key!r} is not accepted")
        if key in NUMBER_OPTIONS and not (value is None or _is_number(value)):
            raise Malformed(f"option {key!r} must be a number, not {_shown(value)}")
        if key in COUNT_OPTIONS and not (value is None or _is_count(value)):
            raise Malformed(f"option {key!r} must be a whole number >= 0, not {_shown(value)}")
        if key in TEXT_OPTIONS and not (value is None or isinstance(value, str)):
            raise Malformed(f"option {key!r} must be a string, not {_shown(value)}")
        if key == "scheduled_at" and value is not None and not _is_instant(value):
            raise Malformed(f"option 'scheduled_at' is not an ISO-8601 instant: {_shown(value)}")


def _name(fields: dict[str, Any], key: str, limit: int) -> None:
    value = fields[key]
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise Malformed(f"{key} must be a string of 1 to {limit} characters, not {_shown(value)}")


def _typed(fields: dict[str, Any], key: str, kind: type) -> None:
    if not isinstance(fields[key], kind):
        expected = "an array" if kind is list else "an object"
        raise Malformed(f"{key} must be {expected}, not JSON {type(fields[key]).__name__}")


def _is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


def _is_count(value: Any) -> bool:
    whole = isinstance(value, int) and not isinstance(value, bool)
    return whole and 0 <= value <= MAX_COUNT


def _is_instant(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _usable(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _shown(value: Any) -> str:
    """A value as an error message shows it: its type, and a short repr of small scalars."""
    if isinstance(value, str):
        return f"string of {len(value)} characters" if len(value) > 40 else repr(value)
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)[:40]
    return f"JSON {type(value).__name__}"

"""Dead-letter operations behind `lineblocs-jobs dlq`: they work from our records alone, so a
message stays replayable after RabbitMQ's dead-letter TTL has dropped its `Q.XQ` copy."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import dramatiq

from lineblocs_shared.clock import Clock
from lineblocs_shared.errors import ExpectedFailure
from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus
from lineblocs_shared.reliability.failures import options as failure
from lineblocs_shared.reliability.failures.store import DeadLetterStore
from lineblocs_shared.reliability.observability.redaction import contains_redaction

AGE = re.compile(r"^\s*(?P<amount>\d+)\s*(?P<unit>[smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# `dlq replay --actor A` replays at most this many records per run.
MAX_BULK_REPLAY = 10_000
# A body refused unread has nothing to replay: what it should have been is for a person to say.
UNREADABLE_REASONS = frozenset(
    {failure.DeadLetterReason.MALFORMED.value, failure.DeadLetterReason.OVERSIZED.value}
)


class DeadLetterNotFound(ExpectedFailure):
    """No dead-letter record has that id."""


class InvalidTimeSpec(ExpectedFailure):
    """A --since / --older-than value is neither an age (7d) nor an ISO date."""


class ReplayOutcome(StrEnum):
    REPLAYED = "replayed"
    ALREADY_REPLAYED = "already_replayed"  # a replay of this record happened before: no-op
    REDACTED = "redacted"  # its stored arguments lost a secret: replaying would send garbage
    UNREADABLE = "unreadable"  # refused before it was a message (malformed, oversized)


@dataclass(frozen=True)
class ReplayResult:
    dead_letter_id: int
    outcome: ReplayOutcome
    message_id: str | None  # the new message's id (or the earlier replay's)


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `15m`, `90s`, `2w` as a duration."""
    match = AGE.match(text)
    if match is None:
        raise InvalidTimeSpec(f"{text!r} is not an age like 30d, 12h, 15m")
    return timedelta(**{UNITS[match["unit"]]: int(match["amount"])})


def parse_since(text: str, *, now: datetime) -> datetime:
    """An age back from now (`7d`) or an ISO date/time (UTC unless it says otherwise)."""
    if AGE.match(text):
        return now - parse_age(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidTimeSpec(f"{text!r} is neither an age like 7d nor an ISO date") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def get_dead_letter(store: DeadLetterStore, dead_letter_id: int) -> DeadLetter:
    letter = store.get(dead_letter_id)
    if letter is None:
        raise DeadLetterNotFound(f"no dead letter with id {dead_letter_id}")
    return letter


def replay_message(letter: DeadLetter, *, message_id: str, now: datetime) -> dramatiq.Message[Any]:
    """A fresh message with the stored queue, actor and arguments and no delivery history."""
    # A replayed periodic message runs as a manual trigger: periodiq would skip it as stale.
    dropped = {*failure.DELIVERY_HISTORY, "scheduled_at"}
    options = {
        key: value for key, value in json.loads(letter.options).items() if key not in dropped
    }
    options[failure.REPLAY_OF] = letter.id
    return dramatiq.Message(
        queue_name=letter.queue_name,
        actor_name=letter.actor_name,
        args=tuple(json.loads(letter.args)),
        kwargs=json.loads(letter.kwargs),
        options=options,
        message_id=message_id,
        message_timestamp=int(now.timestamp() * 1000),
    )


def replay(
    store: DeadLetterStore, broker: dramatiq.Broker, dead_letter_id: int, *, clock: Clock
) -> ReplayResult:
    """Re-enqueue one dead letter with fresh retries; a second replay of it is a no-op.

    The record is claimed (DEAD -> REPLAYED, conditionally) before publishing, so two operators
    replaying at once publish it once; if the publish fails the claim is undone.
    """
    letter = get_dead_letter(store, dead_letter_id)
    if letter.status != DeadLetterStatus.DEAD:
        return ReplayResult(
            dead_letter_id, ReplayOutcome.ALREADY_REPLAYED, letter.replay_message_id
        )
    if letter.reason in UNREADABLE_REASONS:
        return ReplayResult(dead_letter_id, ReplayOutcome.UNREADABLE, None)
    stored_values = [json.loads(letter.args), json.loads(letter.kwargs), json.loads(letter.options)]
    if contains_redaction(stored_values):
        return ReplayResult(dead_letter_id, ReplayOutcome.REDACTED, None)
    now = clock.now()
    message = replay_message(letter, message_id=str(uuid.uuid4()), now=now)
    if not store.claim_replay(dead_letter_id, replay_message_id=message.message_id, at=now):
        latest = store.get(dead_letter_id)
        earlier = latest.replay_message_id if latest is not None else None
        return ReplayResult(dead_letter_id, ReplayOutcome.ALREADY_REPLAYED, earlier)
    try:
        broker.declare_queue(message.queue_name)
        broker.enqueue(message)
    except BaseException:
        store.release_replay(letter, replay_message_id=message.message_id)
        raise
    return ReplayResult(dead_letter_id, ReplayOutcome.REPLAYED, message.message_id)


def replay_actor(
    store: DeadLetterStore, broker: dramatiq.Broker, actor: str, *, clock: Clock
) -> list[ReplayResult]:
    """Replay every DEAD record of one actor, oldest first."""
    letters = store.find(actor=actor, status=DeadLetterStatus.DEAD, limit=MAX_BULK_REPLAY)
    return [
        replay(store, broker, letter.id, clock=clock)
        for letter in reversed(letters)
        if letter.id is not None
    ]


def purge(store: DeadLetterStore, *, older_than: timedelta, clock: Clock) -> tuple[int, datetime]:
    """Delete records last seen before now - older_than; returns (count, cutoff)."""
    cutoff = clock.now() - older_than
    return store.purge(last_seen_before=cutoff), cutoff

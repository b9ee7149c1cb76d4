"""Our durable copy of every dead letter (`lbj_dead_letters`), kept after RabbitMQ drops its own.

`DeadLetter` rows are the currency: the recorder writes them, `dlq` reads and replays them.
Recording is idempotent on the message id: the same message dead-lettered again refreshes its
row (attempts, last seen, error) instead of adding one.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from lineblocs_shared.models.jobs import DeadLetter, DeadLetterStatus

# What a repeated dead-lettering of one message refreshes; the rest is from the first time.
REFRESHED = (
    "reason",
    "exception_class",
    "exception_text",
    "traceback",
    "attempts",
    "last_seen_at",
    "status",
)
REPLAY_FIELDS = ("status", "replay_count", "replayed_at", "replay_message_id")


class DeadLetterStore(Protocol):
    def record(self, letter: DeadLetter) -> DeadLetter:
        """Insert, or refresh the row of the same message id; returns the stored row."""
        ...

    def claim_alert(self, dead_letter_id: int, *, at: datetime) -> bool:
        """Set `alerted_at` if it is not set yet: True for the one caller that set it, who
        sends the alert; every other (concurrent) caller gets False."""
        ...

    def release_alert(self, dead_letter_id: int) -> None:
        """Undo `claim_alert` (the alert could not be sent): the next dead-lettering alerts."""
        ...

    def get(self, dead_letter_id: int) -> DeadLetter | None: ...

    def find(
        self,
        *,
        queue: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        status: DeadLetterStatus | None = None,
        limit: int = 50,
    ) -> Sequence[DeadLetter]:
        """Newest first."""
        ...

    def claim_replay(self, dead_letter_id: int, *, replay_message_id: str, at: datetime) -> bool:
        """Mark a DEAD record replayed; False when it is not (any more) DEAD."""
        ...

    def release_replay(self, before: DeadLetter, *, replay_message_id: str) -> None:
        """Undo `claim_replay` (the publish failed): the record is as `before` again."""
        ...

    def purge(self, *, last_seen_before: datetime) -> int: ...


class SqlDeadLetterStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._table: Any = DeadLetter.__table__  # type: ignore[attr-defined]

    def record(self, letter: DeadLetter) -> DeadLetter:
        values = letter.model_dump(exclude={"id"})
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(self._table).values(**values))
        except IntegrityError:
            # Already recorded (a redelivery dead-lettered again): refresh the row instead.
            with self._engine.begin() as conn:
                conn.execute(
                    update(self._table)
                    .where(self._table.c.message_id == letter.message_id)
                    .values({name: values[name] for name in REFRESHED})
                )
        stored = self._first(
            select(DeadLetter).where(col(DeadLetter.message_id) == letter.message_id)
        )
        if stored is None:  # deleted by a purge in between: nothing left to alert about
            raise LookupError(f"dead letter of message {letter.message_id} vanished")
        return stored

    def claim_alert(self, dead_letter_id: int, *, at: datetime) -> bool:
        # The database decides: of concurrent claims, one UPDATE changes the row.
        table = self._table
        claimed = (table.c.id == dead_letter_id) & table.c.alerted_at.is_(None)
        return self._update(claimed, alerted_at=at) == 1

    def release_alert(self, dead_letter_id: int) -> None:
        self._update(self._table.c.id == dead_letter_id, alerted_at=None)

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        return self._first(select(DeadLetter).where(col(DeadLetter.id) == dead_letter_id))

    def find(
        self,
        *,
        queue: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        status: DeadLetterStatus | None = None,
        limit: int = 50,
    ) -> Sequence[DeadLetter]:
        stmt = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
        if queue is not None:
            stmt = stmt.where(col(DeadLetter.queue_name) == queue)
        if actor is not None:
            stmt = stmt.where(col(DeadLetter.actor_name) == actor)
        if since is not None:
            stmt = stmt.where(col(DeadLetter.last_seen_at) >= since)
        if status is not None:
            stmt = stmt.where(col(DeadLetter.status) == status.value)
        with Session(self._engine) as session:
            return list(session.execute(stmt).scalars().all())

    def claim_replay(self, dead_letter_id: int, *, replay_message_id: str, at: datetime) -> bool:
        # Conditional on status: of two concurrent replays, exactly one changes the row.
        table = self._table
        return (
            self._update(
                (table.c.id == dead_letter_id) & (table.c.status == DeadLetterStatus.DEAD.value),
                status=DeadLetterStatus.REPLAYED.value,
                replay_count=table.c.replay_count + 1,
                replayed_at=at,
                replay_message_id=replay_message_id,
            )
            == 1
        )

    def release_replay(self, before: DeadLetter, *, replay_message_id: str) -> None:
        table = self._table
        self._update(
            (table.c.id == before.id) & (table.c.replay_message_id == replay_message_id),
            **{name: getattr(before, name) for name in REPLAY_FIELDS},
        )

    def purge(self, *, last_seen_before: datetime) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(self._table).where(self._table.c.last_seen_at < last_seen_before)
            )
        return int(result.rowcount)

    def _update(self, where: Any, **values: Any) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(update(self._table).where(where).values(**values))
        return int(result.rowcount)

    def _first(self, stmt: Any) -> DeadLetter | None:
        with Session(self._engine) as session:
            row: DeadLetter | None = session.execute(stmt).scalars().first()
            return row


class InMemoryDeadLetterStore:
    """The fake: same semantics, in a dict, safe across worker threads."""

    def __init__(self) -> None:
        self._rows: dict[int, DeadLetter] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, letter: DeadLetter) -> DeadLetter:
        with self._lock:
            for row in self._rows.values():
                if row.message_id == letter.message_id:
                    for name in REFRESHED:
                        setattr(row, name, getattr(letter, name))
                    return row.model_copy()
            new_id = next(self._ids)
            self._rows[new_id] = letter.model_copy(update={"id": new_id})
            return self._rows[new_id].model_copy()

    def claim_alert(self, dead_letter_id: int, *, at: datetime) -> bool:
        with self._lock:
            row = self._rows[dead_letter_id]
            if row.alerted_at is not None:
                return False
            row.alerted_at = at
            return True

    def release_alert(self, dead_letter_id: int) -> None:
        with self._lock:
            self._rows[dead_letter_id].alerted_at = None

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        row = self._rows.get(dead_letter_id)
        return row.model_copy() if row is not None else None

    def find(
        self,
        *,
        queue: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        status: DeadLetterStatus | None = None,
        limit: int = 50,
    ) -> Sequence[DeadLetter]:
        rows = [
            row.model_copy()
            for row in sorted(self._rows.values(), key=lambda r: r.id or 0, reverse=True)
            if (queue is None or row.queue_name == queue)
            and (actor is None or row.actor_name == actor)
            and (since is None or row.last_seen_at >= since)
            and (status is None or row.status == status)
        ]
        return rows[:limit]

    def claim_replay(self, dead_letter_id: int, *, replay_message_id: str, at: datetime) -> bool:
        with self._lock:
            row = self._rows.get(dead_letter_id)
            if row is None or row.status != DeadLetterStatus.DEAD:
                return False
            row.status = DeadLetterStatus.REPLAYED
            row.replay_count += 1
            row.replayed_at = at
            row.replay_message_id = replay_message_id
            return True

    def release_replay(self, before: DeadLetter, *, replay_message_id: str) -> None:
        with self._lock:
            row = self._rows.get(before.id or 0)
            if row is not None and row.replay_message_id == replay_message_id:
                for name in REPLAY_FIELDS:
                    setattr(row, name, getattr(before, name))

    def purge(self, *, last_seen_before: datetime) -> int:
        with self._lock:
            old = [key for key, row in self._rows.items() if row.last_seen_at < last_seen_before]
            for key in old:
                del self._rows[key]
            return len(old)

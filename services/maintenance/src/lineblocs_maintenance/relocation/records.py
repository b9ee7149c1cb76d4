"""What relocation reads and writes in the database: the site's `recordings` row and our
`lbj_recording_relocations` row. Each function is one short transaction of its own."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.models.recordings import RecordingRelocation, RelocationState
from lineblocs_shared.models.usage import Recording

RECORDINGS: Table = Recording.__table__  # type: ignore[attr-defined]
RELOCATIONS: Table = RecordingRelocation.__table__  # type: ignore[attr-defined]
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class RecordingRow:
    id: int
    status: str
    storage_id: str
    storage_server_ip: str
    s3_url: str
    attempts: int | None  # ours (`lbj_recording_relocations.attempts`); None without our row
    state: str | None  # ours; None before the first sweep or attempt
    object_key: str | None
    sha256: str | None


def load(engine: Engine, recording_id: int) -> RecordingRow | None:
    r, x = RECORDINGS.c, RELOCATIONS.c
    columns = (r.id, r.status, r.storage_id, r.storage_server_ip, r.s3_url)
    stmt = (
        select(*columns, x.attempts, x.state, x.object_key, x.sha256)
        .select_from(RECORDINGS.outerjoin(RELOCATIONS, x.recording_id == r.id))
        .where(r.id == recording_id)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return RecordingRow(*row) if row is not None else None


def start_attempt(engine: Engine, recording_id: int, now: datetime) -> int:
    """Count one more attempt, on our row and the site's, and mark ours relocating; our count."""
    x = RELOCATIONS.c
    with engine.begin() as conn:
        conn.execute(
            update(RECORDINGS)
            .where(RECORDINGS.c.id == recording_id)
            .values(relocation_attempts=RECORDINGS.c.relocation_attempts + 1)
        )
        _put(conn, recording_id, now, state=RelocationState.RELOCATING.value)
        conn.execute(
            update(RELOCATIONS)
            .where(x.recording_id == recording_id)
            .values(attempts=x.attempts + 1)
        )
        attempts = conn.execute(select(x.attempts).where(x.recording_id == recording_id))
        return int(attempts.scalar_one())


def plan_object(engine: Engine, recording_id: int, now: datetime, **found: Any) -> None:
    """The object about to be written (`object_key`, `sha256`, `size_bytes`), before it is."""
    with engine.begin() as conn:
        _put(conn, recording_id, now, **found)


def write_url(engine: Engine, recording_id: int, url: str, now: datetime) -> None:
    """`recordings.s3_url`, in one transaction with our row: the object is verified."""
    with engine.begin() as conn:
        conn.execute(
            update(RECORDINGS)
            .where(RECORDINGS.c.id == recording_id, RECORDINGS.c.s3_url == "")
            .values(s3_url=url)
        )
        _put(conn, recording_id, now, last_error=None)


def mark(engine: Engine, recording_id: int, state: str, now: datetime, error: str = "") -> None:
    with engine.begin() as conn:
        _put(conn, recording_id, now, state=state, last_error=error[:ERROR_LIMIT] or None)


def mark_queued(engine: Engine, recording_ids: list[int], now: datetime) -> None:
    """The sweep published these: no later sweep queues them again while they are in flight.

    Marked after the broker confirmed, so a worker may already have taken a message and
    written its outcome (relocated, missing…): a row written since the sweep's `now` is the
    relocation's own and is left as it is."""
    at = whole_seconds(now)
    with engine.begin() as conn:
        for recording_id in recording_ids:
            ours = RELOCATIONS.c.recording_id == recording_id
            stale = update(RELOCATIONS).where(ours, RELOCATIONS.c.updated_at < at)
            if conn.execute(
                stale.values(state=RelocationState.QUEUED.value, updated_at=at)
            ).rowcount:
                continue
            if conn.execute(select(RELOCATIONS.c.recording_id).where(ours)).first() is not None:
                continue  # written by the relocation since `now`
            row = {"recording_id": recording_id, "state": RelocationState.QUEUED.value,
                   "attempts": 0, "created_at": at, "updated_at": at}  # fmt: skip
            with contextlib.suppress(IntegrityError):  # the relocation wrote it in between
                conn.execute(insert(RELOCATIONS).values(**row))


def _put(conn: Connection, recording_id: int, now: datetime, **values: Any) -> None:
    """Update our row, or insert it (a new row needs a state: `queued` unless given)."""
    values["updated_at"] = whole_seconds(now)
    stmt = update(RELOCATIONS).where(RELOCATIONS.c.recording_id == recording_id)
    if conn.execute(stmt.values(**values)).rowcount:
        return
    row = {"recording_id": recording_id, "state": RelocationState.QUEUED.value, "attempts": 0,
           "created_at": values["updated_at"], **values}  # fmt: skip
    try:
        conn.execute(insert(RELOCATIONS).values(**row))
    except IntegrityError:  # written in between by a concurrent delivery
        conn.execute(stmt.values(**values))


def retry_failed(engine: Engine) -> int:
    """Recordings marked failed get a new budget of attempts: our row is removed (the site's
    `relocation_attempts` keeps counting: it is history, not the budget)."""
    with engine.begin() as conn:
        ids = list(
            conn.execute(
                select(RELOCATIONS.c.recording_id).where(
                    RELOCATIONS.c.state == RelocationState.FAILED.value
                )
            ).scalars()
        )
        if ids:
            conn.execute(delete(RELOCATIONS).where(RELOCATIONS.c.recording_id.in_(ids)))
    return len(ids)

"""Our record of each recording's relocation to object storage (`lbj_recording_relocations`).

The site's `recordings` row keeps the site's own values (`status` stays FINALIZED; `s3_url` is
written once the object is verified). What the site has no column for lives here: whether a
relocation is queued or under way (so a sweep does not queue it twice), the object written and
its checksum, and the end of the road for a recording that cannot be moved (`missing`: the
media server no longer has it; `failed`: bad input or too many attempts), which no sweep
queues again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Text
from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import JobsTable, utcnow


class RelocationState(StrEnum):
    QUEUED = "queued"  # a sweep published its message
    RELOCATING = "relocating"  # a worker is on it (or was, and died)
    RELOCATED = "relocated"  # s3_url written; the media server's copy deleted
    MISSING = "missing"  # the media server answered 404 for a recording never relocated
    FAILED = "failed"  # bad input, or no success within the attempts allowed


# A sweep never queues these again; an operator may (`relocate-recordings --retry-failed`).
FINAL_RELOCATION_STATES = frozenset({RelocationState.MISSING, RelocationState.FAILED})


class RecordingRelocation(JobsTable, table=True):
    __tablename__ = "lbj_recording_relocations"
    __table_args__ = (Index(None, "state", "updated_at"),)

    recording_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    state: RelocationState = Field(sa_type=String(16))
    # Our attempts, the budget's count: the site's `relocation_attempts` is counted too, but the
    # old Go job inflated it without limit, so it cannot decide whether a recording is tried.
    attempts: int = 0
    object_key: str | None = Field(default=None, max_length=255)
    sha256: str | None = Field(default=None, max_length=64)
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

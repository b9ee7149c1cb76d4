"""Our own tables (`lbj_*`), created by Alembic migrations, never by `create_all` in production."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import JobsTable, utcnow


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"


class JobRun(JobsTable, table=True):
    """One run that matters (a bill, a notification, a maintenance pass), keyed by its job."""

    __tablename__ = "lbj_job_runs"
    __table_args__ = (UniqueConstraint("job", "run_key"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=96)
    run_key: str = Field(max_length=191)
    state: RunState = Field(default=RunState.QUEUED, sa_type=String(16), index=True)
    attempts: int = 0
    message_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=Text)
    summary: str | None = Field(default=None, sa_type=Text)  # JSON written by the job
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobRunEvent(JobsTable, table=True):
    """Append-only log of a run's state transitions."""

    __tablename__ = "lbj_job_run_events"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="lbj_job_runs.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    detail: str | None = Field(default=None, sa_type=Text)

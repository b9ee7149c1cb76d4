"""Our own tables (`lbj_*`), created by Alembic migrations, never by `create_all` in production."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import JobsTable, utcnow


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"
    SKIPPED = "skipped"  # a missed period that a catch-up="latest" job does not run


class JobRun(JobsTable, table=True):
    """One run that matters (a bill, a notification, a maintenance pass), keyed by its job."""

    __tablename__ = "lbj_job_runs"
    __table_args__ = (UniqueConstraint("job", "run_key"), Index(None, "job", "scheduled_for"))

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
    # Periodic runs: the cron tick this run is for, and which process claimed it.
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=191)


class JobRunEvent(JobsTable, table=True):
    """Append-only log of a run's state transitions."""

    __tablename__ = "lbj_job_run_events"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="lbj_job_runs.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    detail: str | None = Field(default=None, sa_type=Text)


# SQLite numbers only an INTEGER PRIMARY KEY by itself.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class DeadLetterStatus(StrEnum):
    DEAD = "dead"
    REPLAYED = "replayed"


class DeadLetter(JobsTable, table=True):  # type: ignore[no-redef]  # pydantic plugin: a field named kwargs
    """A message Dramatiq gave up on, kept (and replayable) after RabbitMQ's XQ copy expires."""

    __tablename__ = "lbj_dead_letters"
    __table_args__ = (Index(None, "queue_name", "last_seen_at"), Index(None, "actor_name"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    message_id: str = Field(max_length=64, unique=True)
    queue_name: str = Field(max_length=96)
    actor_name: str = Field(max_length=96)
    args: str = Field(sa_type=Text)  # JSON, secrets redacted
    kwargs: str = Field(sa_type=Text)  # JSON, secrets redacted
    options: str = Field(sa_type=Text)  # JSON of the message options worth keeping
    reason: str = Field(max_length=32)  # fatal | retries_exhausted | age_limit | unknown_actor
    exception_class: str | None = Field(default=None, max_length=191)
    exception_text: str | None = Field(default=None, sa_type=Text)
    traceback: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0
    first_seen_at: datetime = Field(sa_type=UTCDateTime)  # when the message was first enqueued
    last_seen_at: datetime = Field(sa_type=UTCDateTime)  # when it was dead-lettered
    status: DeadLetterStatus = Field(default=DeadLetterStatus.DEAD, sa_type=String(16), index=True)
    replay_count: int = 0
    replayed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replay_message_id: str | None = Field(default=None, max_length=64)
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A body refused before it could be read as a message: its first bytes (secrets masked) and
    # its length; an oversized one keeps its length only.
    raw_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    body_length: int | None = None


class OutboxMessage(JobsTable, table=True):
    """A message written in the same transaction as the change it follows; a relay publishes it."""

    __tablename__ = "lbj_outbox"
    __table_args__ = (Index(None, "published_at", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    event_id: str = Field(max_length=36, unique=True)
    queue_name: str = Field(max_length=96)
    actor_name: str = Field(max_length=96)
    payload: str = Field(sa_type=Text)  # JSON kwargs of the Dramatiq message
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)


class ProcessedEvent(JobsTable, table=True):
    """Consumer-side de-duplication: an event id a consumer has already acted on."""

    __tablename__ = "lbj_processed_events"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    consumer: str = Field(max_length=96)
    event_id: str = Field(max_length=36)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Lineblocs usage tables: calls, recordings, faxes, phone numbers and usage triggers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from lineblocs_shared.db.types import Cents, UTCDateTime
from lineblocs_shared.models.base import LineblocsTable, timestamp_field, utcnow


class Call(LineblocsTable, table=True):
    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    api_id: str = Field(unique=True)
    # `from` and `to` are reserved words; SQLAlchemy quotes them.
    from_: str = Field(sa_column_kwargs={"name": "from"})
    to: str
    status: str
    direction: str
    duration: int  # seconds
    user_id: int = Field(foreign_key="users.id")
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    plan_snapshot: str = ""
    billed: bool = False


class Recording(LineblocsTable, table=True):
    __tablename__ = "recordings"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    api_id: str = Field(unique=True)
    status: str  # site enum: RECORDING, FINALIZED
    uri: str = ""
    user_id: int = Field(foreign_key="users.id")
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    call_id: int | None = Field(default=None, foreign_key="calls.id", ondelete="SET NULL")
    tag: str = ""
    name: str = ""
    duration: int = 0
    size: float = 0.0  # DOUBLE(8,2) in the schema
    transcription_text: str = Field(default="", sa_type=Text)
    plan_snapshot: str = ""
    storage_id: str = ""
    storage_server_ip: str = ""
    s3_url: str = ""
    relocation_attempts: int = 0
    trim: bool = False


class Fax(LineblocsTable, table=True):
    __tablename__ = "faxes"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    api_id: str = Field(unique=True)
    uri: str = ""
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    call_id: int = Field(foreign_key="calls.id")
    size: int = 0
    name: str = ""
    plan_snapshot: str = ""


class DidNumber(LineblocsTable, table=True):
    __tablename__ = "did_numbers"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    number: str
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    monthly_cost: int = Field(sa_type=Cents)
    setup_cost: int = Field(default=0, sa_type=Cents)
    active: bool = True
    public_id: str | None = Field(default=None, unique=True)
    country: str = ""
    region: str = ""
    name: str = ""
    provider: str = ""
    provider_id: str = ""
    trial_number: bool = False
    api_number: str = ""
    features: str = ""
    type: str = ""
    availability: str = ""


class UsageTrigger(LineblocsTable, table=True):
    __tablename__ = "usage_triggers"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="CASCADE")
    percentage: int


class UsageTriggerResult(LineblocsTable, table=True):
    """An alert already sent for (trigger, credit); the Go code forgot credit_id (NOT NULL)."""

    __tablename__ = "usage_triggers_results"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    usage_trigger_id: int = Field(foreign_key="usage_triggers.id")
    credit_id: int = Field(foreign_key="users_credits.id")

"""Our notification ledger: one row per e-mail the jobs mean to send, ever (`lbj_notifications`).

The row is the claim: its `dedupe_key` (the kind and what makes the mail unique: an event id, a
user and a date, a card and its expiry) is unique in the database, and the row is committed
before anything is sent. Its `message_id` (RFC 5322) derives from the key, so the one duplicate
a crash can cause carries the same Message-ID.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import JobsTable, utcnow
from lineblocs_shared.models.jobs import BIG_ID


class NotificationState(StrEnum):
    PENDING = "pending"  # claimed, not sent yet (or a transient failure released it)
    SENDING = "sending"  # a delivery is talking to the provider, until `lease_until`
    SENT = "sent"  # the provider accepted it
    SUPPRESSED = "suppressed"  # the recipient muted the mail's category
    SKIPPED = "skipped"  # nobody to send it to (unknown user or workspace, no address)
    FAILED = "failed"  # the provider refused the recipient: no retry


FINAL_STATES = frozenset(
    {
        NotificationState.SENT,
        NotificationState.SUPPRESSED,
        NotificationState.SKIPPED,
        NotificationState.FAILED,
    }
)


class Notification(JobsTable, table=True):
    __tablename__ = "lbj_notifications"
    __table_args__ = (Index(None, "kind", "created_at"), Index(None, "state", "updated_at"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    kind: str = Field(max_length=48)
    dedupe_key: str = Field(max_length=191, unique=True)
    message_id: str = Field(max_length=191)
    state: NotificationState = Field(
        default=NotificationState.PENDING, sa_type=String(16), index=True
    )
    user_id: int | None = None
    workspace_id: int | None = None
    recipient: str | None = Field(default=None, max_length=191)
    subject: str | None = Field(default=None, max_length=255)
    context: str = Field(default="{}", sa_type=Text)  # JSON: what the template was given
    attempts: int = 0
    provider: str | None = Field(default=None, max_length=16)
    provider_id: str | None = Field(default=None, max_length=191)
    last_error: str | None = Field(default=None, sa_type=Text)
    source_message_id: str | None = Field(default=None, max_length=64)
    resend_of: int | None = Field(default=None, sa_type=BIG_ID)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NotificationOptOut(JobsTable, table=True):
    """A user who unsubscribed from one unsolicited kind (the survey): never sent it again."""

    __tablename__ = "lbj_notification_optouts"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    user_id: int
    kind: str = Field(max_length=48)
    via: str = Field(max_length=16)  # one-click, mailto, cli
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

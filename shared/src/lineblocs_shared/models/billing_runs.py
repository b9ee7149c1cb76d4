"""Our billing tables: one row per (cycle, workspace, period) ever, and each payment attempt.

The unique key of `lbj_billing_periods` is what makes an invoice exist once per workspace and period
(R-INVOICE-2 in docs/billing-rules.md): it is written in the same transaction as the invoice. Each
payment attempt is committed before the gateway is called (R-ONCE-1 in docs/billing-rules.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import JobsTable, utcnow
from lineblocs_shared.models.jobs import BIG_ID


class PeriodState(StrEnum):
    INVOICED = "invoiced"  # invoice written, not settled yet
    PAID = "paid"
    FAILED = "failed"  # last attempt declined (or no card); dunning may retry
    NOTHING_DUE = "nothing_due"  # total 0: no invoice, dates advanced
    GAVE_UP = "gave_up"  # dunning exhausted: suspension written


class AttemptState(StrEnum):
    PENDING = "pending"  # committed, gateway not called yet (or outcome unknown)
    CREATED = "created"  # the gateway's payment exists (its id stored), not confirmed yet
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class BillingPeriodRecord(JobsTable, table=True):
    __tablename__ = "lbj_billing_periods"
    __table_args__ = (
        UniqueConstraint("cycle", "workspace_id", "period_start"),
        Index(None, "state", "next_attempt_at"),
        Index(None, "subscription_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    cycle: str = Field(sa_type=String(8))
    workspace_id: int
    subscription_id: int
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    invoice_id: int | None = None  # users_invoices.id; None when nothing was due
    state: PeriodState = Field(sa_type=String(16))
    total_cents: int = 0
    amount_due_cents: int = 0  # what is charged to the card (PAYG: only the shortfall)
    dunning_attempts: int = 0  # declined attempts so far
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentAttempt(JobsTable, table=True):
    __tablename__ = "lbj_payment_attempts"
    __table_args__ = (UniqueConstraint("billing_period_id", "attempt_no"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    billing_period_id: int = Field(foreign_key="lbj_billing_periods.id", sa_type=BIG_ID)
    invoice_id: int
    workspace_id: int
    attempt_no: int
    # lineblocs_<workspace>_<period start Ymd>_<n>: the idempotency key / Braintree order id.
    attempt_key: str = Field(max_length=96, unique=True)
    gateway: str = Field(max_length=16)
    amount_cents: int
    currency: str = Field(max_length=3)
    state: AttemptState = Field(sa_type=String(16), index=True)
    gateway_payment_id: str | None = Field(default=None, max_length=191)
    # What the attempt charges, pinned when it is made: a resumed attempt re-sends the same
    # request (NULL on rows older than migration 0004: the workspace's current card then).
    customer_id: str | None = Field(default=None, max_length=191)
    payment_method_id: str | None = Field(default=None, max_length=191)
    decline_code: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

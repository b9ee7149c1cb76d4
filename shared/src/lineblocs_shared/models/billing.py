"""Lineblocs billing tables: plans, subscriptions, invoices, debits, credits, cards, taxes.

Money is integer cents in Python whatever the column type (`Cents`). The plan's monthly price
column has two names across Lineblocs versions, so it is in the table (for `create_all`) but not
mapped: `ServicePlanRepository` reads and writes it by the name the database has.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Enum, Integer, Text, text
from sqlmodel import Field

from lineblocs_shared.db.types import Cents, UTCDateTime
from lineblocs_shared.models.base import LineblocsTable, timestamp_field


class BillingCycle(StrEnum):
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"


class ServicePlan(LineblocsTable, table=True):
    __tablename__ = "service_plans"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    key_name: str = ""
    nice_name: str = ""
    annual_cost_cents: int = Field(default=0, sa_type=Cents)
    minutes_per_month: int = 0
    pay_as_you_go: bool = False
    recording_space: str = ""  # free text: "2048" (KiB) from the seeder, "2gb" elsewhere
    fax: bool = False  # a feature flag, not a fax allowance
    status: str = "ACTIVE"
    deleted_at: datetime | None = timestamp_field(nullable=True)


# In the table, not in the mapper: see the module docstring.
MONTHLY_PRICE_COLUMNS = ("monthly_cost_cents", "monthly_charge_cents")
ServicePlan.__table__.append_column(  # type: ignore[attr-defined]
    Column("monthly_cost_cents", Integer, nullable=False, server_default=text("0"))
)


class Subscription(LineblocsTable, table=True):
    __tablename__ = "subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    current_plan_id: int = Field(foreign_key="service_plans.id")
    billing_cycle: BillingCycle = Field(
        sa_type=Enum(BillingCycle, name="billing_cycle", native_enum=True, length=7)
    )
    status: str = "ACTIVE"
    current_period_end: datetime | None = timestamp_field()
    next_billing_date: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_billed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scheduled_plan_id: int | None = Field(default=None, foreign_key="service_plans.id")
    scheduled_effective_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_subscription_id: str | None = Field(default=None, unique=True)
    billing_anchor_day: int | None = None
    is_free_trial_active: bool = False
    free_trial_start_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    free_trial_end_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_at_period_end: bool = False


class Invoice(LineblocsTable, table=True):
    __tablename__ = "users_invoices"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    # NOT NULL without default: no Python default either, a caller must decide them.
    cents: int = Field(sa_type=Cents)
    source: str
    status: str
    cents_including_taxes: int = Field(sa_type=Cents)
    cents_taxes: int = Field(sa_type=Cents)
    tax_metadata: str = Field(sa_type=Text)
    call_costs: int = Field(default=0, sa_type=Cents)
    recording_costs: int = Field(default=0, sa_type=Cents)
    fax_costs: int = Field(default=0, sa_type=Cents)
    membership_costs: int = Field(default=0, sa_type=Cents)
    number_costs: int = Field(default=0, sa_type=Cents)
    cents_collected: int = Field(default=0, sa_type=Cents)
    last_attempted: datetime | None = Field(default=None, sa_type=UTCDateTime)
    num_attempts: int = 0
    due_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    complete_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invoice_no: str = "0000-00000"
    confirmation_id: str | None = None
    confirmation_number: str | None = None
    payment_gateway_id: str | None = None
    deduplication_key: str | None = Field(default=None, index=True)
    source_service: str | None = None
    invoice_type: str = "RECURRING_BILL"


class InvoiceLineItem(LineblocsTable, table=True):
    __tablename__ = "users_invoices_line_items"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    invoice_id: int | None = Field(
        default=None, foreign_key="users_invoices.id", ondelete="SET NULL"
    )
    key_name: str | None = None
    name: str | None = None
    cents: int = Field(default=0, sa_type=Cents)
    is_recurring: bool = False


class InvoicePayment(LineblocsTable, table=True):
    __tablename__ = "users_invoices_payments"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="SET NULL")
    cents: int = Field(sa_type=Cents)
    source: str
    status: str


class Debit(LineblocsTable, table=True):
    __tablename__ = "users_debits"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="CASCADE")
    cents: int = Field(sa_type=Cents)
    source: str
    status: str
    module_id: int | None = None
    deduplication_key: str | None = Field(default=None, index=True)


class Card(LineblocsTable, table=True):
    __tablename__ = "users_cards"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    issuer: str
    last_4: str
    stripe_id: str = ""  # NOT NULL without default; the site no longer sets it
    stripe_payment_method_id: str | None = None
    primary: bool = False
    backup: bool = False
    exp_month: int | None = None
    exp_year: int | None = None


class Credit(LineblocsTable, table=True):
    __tablename__ = "users_credits"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="CASCADE")
    card_id: int | None = Field(default=None, foreign_key="users_cards.id")
    cents: int = Field(sa_type=Cents)
    balance: int = Field(sa_type=Cents)
    source: str
    status: str
    deduplication_key: str | None = Field(default=None, index=True)


class BillingCountry(LineblocsTable, table=True):
    __tablename__ = "billing_countries"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    name: str = ""
    iso: str = ""


class BillingRegion(LineblocsTable, table=True):
    __tablename__ = "billing_regions"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    name: str
    short_name: str
    billing_country_id: int = Field(foreign_key="billing_countries.id", ondelete="CASCADE")


class BillingTax(LineblocsTable, table=True):
    __tablename__ = "billing_taxes"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    name: str = ""
    # DOUBLE(8,2) percent; read as float, used only through decimal arithmetic.
    tax_percentage: float = 0.0
    federal: bool = False
    primary_tax: bool = False
    region_id: int | None = Field(
        default=None, foreign_key="billing_regions.id", ondelete="CASCADE"
    )
    country_id: int | None = Field(
        default=None, foreign_key="billing_countries.id", ondelete="CASCADE"
    )


class WorkspaceSuspension(LineblocsTable, table=True):
    __tablename__ = "workspaces_suspensions"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    suspended_at: datetime = timestamp_field()
    grace_period_extension: int | None = None
    reason: str
    status: str = "INITIATED"
    invoice_id: int | None = Field(
        default=None, foreign_key="users_invoices.id", ondelete="SET NULL"
    )
    suspension_initiated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

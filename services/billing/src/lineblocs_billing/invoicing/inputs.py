"""The facts an invoice needs of its subscription, as one query reads them
(`subject_query.read_subject`): the subscription's terms, its workspace, plan and price, seats,
primary tax, and the period's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lineblocs_shared.models.billing import BillingCycle


@dataclass(frozen=True)
class SubscriptionTerms:
    """The subscription's columns billing decides on, and advances from once it has billed."""

    id: int
    workspace_id: int
    current_plan_id: int
    billing_cycle: BillingCycle
    status: str
    created_at: datetime | None  # None: Laravel's zero timestamp
    next_billing_date: datetime | None
    billing_anchor_day: int | None
    is_free_trial_active: bool
    free_trial_end_date: datetime | None
    cancel_at_period_end: bool
    scheduled_plan_id: int | None
    scheduled_effective_date: datetime | None


@dataclass(frozen=True)
class WorkspaceTerms:
    id: int
    creator_id: int
    active: bool


@dataclass(frozen=True)
class PlanTerms:
    """A plan with its monthly price, read from whichever price column the database has."""

    id: int
    annual_cost_cents: int
    minutes_per_month: int
    pay_as_you_go: bool
    monthly_cost_cents: int

    def price_cents(self, *, annual: bool) -> int:
        return self.annual_cost_cents if annual else self.monthly_cost_cents


@dataclass(frozen=True)
class PrimaryTax:
    name: str
    percentage: Decimal


@dataclass(frozen=True)
class BillingSubject:
    """A subscription and what billing one of its periods needs to know first (one query)."""

    subscription: SubscriptionTerms
    workspace: WorkspaceTerms | None  # None: the workspace no longer exists
    plan: PlanTerms | None  # None: the subscription points at a plan that does not exist
    creator_workspaces: int  # how many workspaces the workspace's creator created
    seats: int  # billable seats in the period, at least 1
    tax: PrimaryTax | None  # the workspace's primary tax, if any
    # The period's lbj_billing_periods ids when asked (`with_records`): the one this
    # subscription wrote, and the one of its workspace and cycle (whichever subscription wrote it).
    record_of_subscription: int | None = None
    record_of_workspace: int | None = None

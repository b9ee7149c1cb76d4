"""Tenants and usage for the invoicing tests: one billed period, October 2026.

Each builder adds rows through an open UnitOfWork and never commits (the test decides). The
tenant's subscription is monthly, created on 2026-01-01, anchored on the 1st, and due for the
period [2026-10-01, 2026-11-01); "now" is 2026-11-23.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.drafting import compute_invoice
from lineblocs_billing.invoicing.invoice_period import InvoicingOutcome, invoice_period
from lineblocs_billing.invoicing.periods import BillingPeriod
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import (
    BillingCountry,
    BillingCycle,
    BillingRegion,
    BillingTax,
    Credit,
    Debit,
    Subscription,
)
from lineblocs_shared.models.tenants import User, Workspace, WorkspaceUser
from lineblocs_shared.models.usage import Call, DidNumber
from lineblocs_shared.repositories.billing import PricedPlan
from lineblocs_shared.site_settings.reader import SiteSettings
from tests.factories import make_plan, make_subscription, make_user, make_workspace, unique_suffix

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
MID = datetime(2026, 10, 15, 12, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = BillingPeriod(start=START, end=END, cycle=BillingCycle.MONTHLY, anchor_day=1)
ANNUAL_PERIOD = BillingPeriod(
    start=datetime(2025, 11, 1, tzinfo=UTC), end=END, cycle=BillingCycle.ANNUAL, anchor_day=1
)


@dataclass(frozen=True)
class Tenant:
    user: User
    workspace: Workspace
    plan: PricedPlan
    subscription: Subscription

    @property
    def workspace_id(self) -> int:
        assert self.workspace.id is not None
        return self.workspace.id

    @property
    def subscription_id(self) -> int:
        assert self.subscription.id is not None
        return self.subscription.id


def make_tenant(
    uow: UnitOfWork,
    *,
    monthly_cost_cents: int = 2499,
    minutes_per_month: int = 200,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    plan: dict[str, Any] | None = None,
    subscription: dict[str, Any] | None = None,
    workspace: dict[str, Any] | None = None,
    user: User | None = None,
) -> Tenant:
    creator = user or make_user(uow)
    ws = make_workspace(uow, creator=creator, created_at=CREATED, **(workspace or {}))
    priced = make_plan(
        uow,
        monthly_cost_cents=monthly_cost_cents,
        minutes_per_month=minutes_per_month,
        **(plan or {}),
    )
    sub_values: dict[str, Any] = {
        "created_at": CREATED,
        "billing_cycle": cycle,
        "next_billing_date": END,
        "current_period_end": END,
        "billing_anchor_day": 1,
    }
    sub_values.update(subscription or {})
    sub = make_subscription(uow, workspace=ws, plan=priced, **sub_values)
    return Tenant(user=creator, workspace=ws, plan=priced, subscription=sub)


def add_debit(
    uow: UnitOfWork, tenant: Tenant, *, cents: int, source: str, **overrides: Any
) -> Debit:
    values: dict[str, Any] = {
        "created_at": MID,
        "updated_at": MID,
        "user_id": tenant.user.id,
        "workspace_id": tenant.workspace_id,
        "cents": cents,
        "source": source,
        "status": "CREATED",
    }
    values.update(overrides)
    return uow.debits.add(debit=Debit(**values))


def add_call(
    uow: UnitOfWork, tenant: Tenant, *, cents: int, duration: int, started_at: datetime = MID
) -> Debit:
    """A call of the workspace and its CALL debit (full price), recorded when it ended."""
    call = Call(
        api_id=f"call-{unique_suffix()}",
        from_="+15145550100",
        to="+14165550199",
        status="ENDED",
        direction="outbound",
        duration=duration,
        user_id=tenant.workspace.creator_id,
        workspace_id=tenant.workspace_id,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=duration),
        created_at=started_at,
        updated_at=started_at,
    )
    uow.session.add(call)
    uow.session.flush()
    ended = started_at + timedelta(seconds=duration)
    return add_debit(uow, tenant, cents=cents, source="CALL", module_id=call.id, created_at=ended)


def add_seat(uow: UnitOfWork, tenant: Tenant, *, status: str, **overrides: Any) -> WorkspaceUser:
    member = make_user(uow)
    seat = WorkspaceUser(
        workspace_id=tenant.workspace_id,
        user_id=member.id,  # type: ignore[arg-type]
        status=status,
        public_id=f"wu-{unique_suffix()}",
        **overrides,
    )
    uow.session.add(seat)
    uow.session.flush()
    return seat


def add_did(uow: UnitOfWork, tenant: Tenant, *, monthly_cost: int, active: bool = True) -> int:
    did = DidNumber(
        number=f"+1514{unique_suffix()[:7]}",
        workspace_id=tenant.workspace_id,
        user_id=tenant.user.id,
        monthly_cost=monthly_cost,
        active=active,
        public_id=f"did-{unique_suffix()}",
    )
    uow.session.add(did)
    uow.session.flush()
    assert did.id is not None
    return did.id


def add_credit(
    uow: UnitOfWork, tenant: Tenant, *, cents: int, status: str = "APPROVED", **overrides: Any
) -> Credit:
    values: dict[str, Any] = {
        "created_at": START - timedelta(days=10),
        "user_id": tenant.user.id,
        "workspace_id": tenant.workspace_id,
        "cents": cents,
        "balance": cents,
        "source": "CARD",
        "status": status,
    }
    values.update(overrides)
    credit = Credit(**values)
    uow.session.add(credit)
    uow.session.flush()
    return credit


def add_region(uow: UnitOfWork) -> tuple[int, int]:
    """A country and one of its regions: (country id, region id)."""
    country = BillingCountry(name="Canada", iso="CA")
    uow.session.add(country)
    uow.session.flush()
    region = BillingRegion(name="Quebec", short_name="QC", billing_country_id=country.id)  # type: ignore[arg-type]
    uow.session.add(region)
    uow.session.flush()
    assert country.id is not None
    assert region.id is not None
    return country.id, region.id


def add_tax(uow: UnitOfWork, *, name: str, percentage: float, **overrides: Any) -> BillingTax:
    values: dict[str, Any] = {"name": name, "tax_percentage": percentage, "primary_tax": True}
    tax = BillingTax(**{**values, **overrides})
    uow.session.add(tax)
    uow.session.flush()
    return tax


def compute(engine: Engine, tenant: Tenant, period: BillingPeriod = PERIOD) -> InvoiceDraft:
    with UnitOfWork(engine) as uow:
        return compute_invoice(uow, subscription_id=tenant.subscription_id, period=period)


def bill(
    engine: Engine, tenant: Tenant, *, period: BillingPeriod = PERIOD, now: datetime = NOW
) -> InvoicingOutcome:
    """Invoice the tenant's period in one committed unit of work."""
    with UnitOfWork(engine) as uow:
        outcome = invoice_period(
            uow,
            subscription_id=tenant.subscription_id,
            period_start=period.start,
            period_end=period.end,
            site_settings=SiteSettings(bind=uow.session),
            now=now,
        )
        uow.commit()
        return outcome

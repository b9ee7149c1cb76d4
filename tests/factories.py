"""Realistic Lineblocs rows for tests: user, workspace, plan, subscription, card, call.

Every factory takes the open `UnitOfWork` first and keyword-only overrides after it, adds the
row through the repository (which flushes, so ids are set) and never commits: the test decides.
Unique columns (username, email, public ids) get a random suffix, so a test may call a factory
any number of times. Datetimes are whole seconds, because MySQL TIMESTAMP/DATETIME columns keep
no microseconds: what a test wrote is exactly what it reads back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import (
    BillingCycle,
    Card,
    ServicePlan,
    Subscription,
)
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import Call
from lineblocs_shared.repositories.billing import PricedPlan

# A bcrypt hash as Laravel stores it (users.password is VARCHAR(60)).
BCRYPT_HASH = "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"


def whole_seconds(moment: datetime | None = None) -> datetime:
    """`moment` (default: now) in UTC without microseconds, as MySQL will store it."""
    return (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def unique_suffix() -> str:
    return uuid.uuid4().hex[:10]


def make_user(uow: UnitOfWork, **overrides: Any) -> User:
    suffix = unique_suffix()
    now = whole_seconds()
    values: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": f"ada-{suffix}",
        "email": f"ada-{suffix}@example.com",
        "password": BCRYPT_HASH,
        "stripe_id": f"cus_{suffix}",
        "plan": "basic",
        "free_trial_started": now - timedelta(days=30),
        "needs_set_password_date": now - timedelta(days=30),
        "last_login": now - timedelta(days=1),
        "country": "CA",
    }
    values.update(overrides)
    return uow.users.add(user=User(**values))


def make_workspace(uow: UnitOfWork, *, creator: User, **overrides: Any) -> Workspace:
    now = whole_seconds()
    values: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "name": f"acme-{unique_suffix()}",
        "creator_id": creator.id,
        "plan": "basic",
        "free_trial_started": now - timedelta(days=30),
        "default_region": "ca-central-1",
    }
    values.update(overrides)
    return uow.workspaces.add(workspace=Workspace(**values))


def make_plan(uow: UnitOfWork, *, monthly_cost_cents: int = 2499, **overrides: Any) -> PricedPlan:
    """The seeder's `basic` plan (ServicePlanSeeder): 24.99 a month, 200 minutes, fax."""
    now = whole_seconds()
    values: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "key_name": "basic",
        "nice_name": "Basic",
        "annual_cost_cents": 2499,
        "minutes_per_month": 200,
        "recording_space": "2048",
        "fax": True,
    }
    values.update(overrides)
    return uow.plans.add(plan=ServicePlan(**values), monthly_cost_cents=monthly_cost_cents)


def make_subscription(
    uow: UnitOfWork, *, workspace: Workspace, plan: ServicePlan | PricedPlan, **overrides: Any
) -> Subscription:
    """A monthly ACTIVE subscription whose period ends (and next bill falls) in 30 days."""
    service_plan = plan.plan if isinstance(plan, PricedPlan) else plan
    now = whole_seconds()
    period_end = now + timedelta(days=30)
    values: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "workspace_id": workspace.id,
        "current_plan_id": service_plan.id,
        "billing_cycle": BillingCycle.MONTHLY,
        "status": "ACTIVE",
        "current_period_end": period_end,
        "next_billing_date": period_end,
        "billing_anchor_day": now.day,
    }
    values.update(overrides)
    return uow.subscriptions.add(subscription=Subscription(**values))


def make_card(uow: UnitOfWork, *, workspace: Workspace, **overrides: Any) -> Card:
    """A Visa card of the workspace's creator, neither primary nor backup unless told."""
    now = whole_seconds()
    values: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "workspace_id": workspace.id,
        "user_id": workspace.creator_id,
        "issuer": "visa",
        "last_4": "4242",
        "stripe_payment_method_id": f"pm_{unique_suffix()}",
    }
    values.update(overrides)
    return uow.cards.add(card=Card(**values))


@dataclass(frozen=True)
class BillingChain:
    user: User
    workspace: Workspace
    plan: PricedPlan
    subscription: Subscription


def make_billing_chain(uow: UnitOfWork, *, monthly_cost_cents: int = 2499) -> BillingChain:
    """A user who created a workspace subscribed monthly to the basic plan."""
    user = make_user(uow)
    workspace = make_workspace(uow, creator=user)
    plan = make_plan(uow, monthly_cost_cents=monthly_cost_cents)
    subscription = make_subscription(uow, workspace=workspace, plan=plan)
    return BillingChain(user=user, workspace=workspace, plan=plan, subscription=subscription)


def make_call(uow: UnitOfWork, *, workspace: Workspace, **overrides: Any) -> Call:
    """A two-minute outbound call that ended a minute ago, made by the workspace's creator."""
    ended = whole_seconds() - timedelta(minutes=1)
    values: dict[str, Any] = {
        "created_at": ended,
        "updated_at": ended,
        "api_id": f"call-{unique_suffix()}",
        "from_": "+15145550100",
        "to": "+14165550199",
        "status": "ENDED",
        "direction": "outbound",
        "duration": 120,
        "user_id": workspace.creator_id,
        "workspace_id": workspace.id,
        "started_at": ended - timedelta(seconds=120),
        "ended_at": ended,
    }
    values.update(overrides)
    call = Call(**values)
    uow.session.add(call)
    uow.session.flush()
    return call

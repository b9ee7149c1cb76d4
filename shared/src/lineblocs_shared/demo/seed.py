"""A small, realistic Lineblocs dataset for the demo (and for tests that want a whole tenant).

Plans as Lineblocs' own seeder makes them; workspaces with seats, monthly and annual
subscriptions (one on a free trial), phone numbers, cards (one declined on a period's first
try), calls with their CALL debits, debugger logs old and new, and Lineblocs' own dunning
settings. Everything goes through the repositories, so it proves the models.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Card, Debit, ServicePlan, Subscription
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.models.settings_store import CustomizationsKVStore
from lineblocs_shared.models.tenants import User, Workspace, WorkspaceUser
from lineblocs_shared.models.usage import Call, DidNumber

# (key, nice name, monthly cents, annual cents, minutes/month, pay-as-you-go)
PLANS = (
    ("pay-as-you-go", "Pay as you go", 0, 0, 0, True),
    ("basic", "Basic", 2499, 24990, 200, False),
    ("company", "Company", 4999, 49990, 200, False),
)

# (workspace, plan key, cycle, seats, DIDs, calls, free trial)
TENANTS = (
    ("Acme Telecom", "basic", BillingCycle.MONTHLY, 3, 2, 40, False),
    ("Globex Support", "company", BillingCycle.MONTHLY, 8, 3, 120, False),
    ("Initech Voice", "basic", BillingCycle.ANNUAL, 2, 1, 25, False),
    ("Hooli Labs", "company", BillingCycle.MONTHLY, 1, 1, 10, True),
    ("Umbrella Pay-go", "pay-as-you-go", BillingCycle.MONTHLY, 1, 1, 30, False),
)
# Its card is declined on the first try of a period, then accepted (the fake gateway's
# `decline_once`): the demo's decline and its successful dunning retry.
DECLINE_ONCE_TENANT = "Globex Support"
# Lineblocs' own settings, as the admin UI saves them: dunning on, three retries.
CUSTOMIZATIONS: tuple[tuple[str, bool | int | str], ...] = (
    ("billing_retry_enabled", True),
    ("billing_num_retries", 3),
    ("default_currency", "CAD"),
)


@dataclass
class DemoDataset:
    plans: dict[str, int] = field(default_factory=dict)
    workspaces: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def bump(self, what: str, by: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + by


def seed_demo_dataset(engine: Engine, *, now: datetime, seed: int = 7) -> DemoDataset:
    """Write the demo tenants into an empty Lineblocs schema; deterministic for a given seed."""
    rng = random.Random(seed)
    data = DemoDataset()
    period_start = (now - relativedelta(months=1)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    with UnitOfWork(engine) as uow:
        for key, nice, monthly, annual, minutes, payg in PLANS:
            priced = uow.plans.add(
                plan=ServicePlan(
                    key_name=key,
                    nice_name=nice,
                    annual_cost_cents=annual,
                    minutes_per_month=minutes,
                    pay_as_you_go=payg,
                    recording_space="2048",
                    fax=not payg,
                ),
                monthly_cost_cents=monthly,
            )
            assert priced.plan.id is not None
            data.plans[key] = priced.plan.id
        uow.session.add_all(CustomizationsKVStore.of(key, value) for key, value in CUSTOMIZATIONS)
        for index, tenant in enumerate(TENANTS):
            _seed_tenant(uow, data, rng, index=index, tenant=tenant, start=period_start, now=now)
        _seed_logs(uow, data, rng, now=now)
        uow.commit()
    return data


def _seed_tenant(
    uow: UnitOfWork,
    data: DemoDataset,
    rng: random.Random,
    *,
    index: int,
    tenant: tuple[str, str, BillingCycle, int, int, int, bool],
    start: datetime,
    now: datetime,
) -> None:
    name, plan_key, cycle, seats, dids, calls, trial = tenant
    slug = name.lower().split()[0]
    creator = uow.users.add(
        user=User(
            name=f"{slug} owner",
            username=f"{slug}-owner",
            email=f"owner@{slug}.example",
            first_name=slug.title(),
            last_name="Owner",
            stripe_id=f"cus_demo_{slug}",
            last_login=now - timedelta(days=rng.randint(0, 30)),
        )
    )
    assert creator.id is not None
    workspace = uow.workspaces.add(
        workspace=Workspace(name=name, creator_id=creator.id, plan=plan_key, default_region="ca")
    )
    assert workspace.id is not None
    data.workspaces[name] = workspace.id
    _seed_seats(uow, data, workspace_id=workspace.id, creator_id=creator.id, slug=slug, seats=seats)
    next_bill = start + (
        relativedelta(years=1) if cycle is BillingCycle.ANNUAL else relativedelta(months=1)
    )
    subscription = uow.subscriptions.add(
        subscription=Subscription(
            workspace_id=workspace.id,
            current_plan_id=data.plans[plan_key],
            billing_cycle=cycle,
            created_at=start - timedelta(days=40 + index),
            current_period_end=next_bill,
            next_billing_date=next_bill,
            billing_anchor_day=1,
            is_free_trial_active=trial,
            free_trial_start_date=start if trial else None,
            free_trial_end_date=start + timedelta(days=14) if trial else None,
        )
    )
    assert subscription.id is not None
    data.subscriptions[name] = subscription.id
    uow.cards.add(
        card=Card(
            workspace_id=workspace.id,
            user_id=creator.id,
            issuer="visa",
            last_4=f"{4242 + index:04d}"[-4:],
            stripe_payment_method_id=(
                "pm_demo_decline_once" if name == DECLINE_ONCE_TENANT else f"pm_demo_{slug}"
            ),
            primary=True,
            exp_month=(index % 12) + 1,
            exp_year=now.year + 1,
        )
    )
    data.bump("cards")
    for n in range(dids):
        uow.session.add(
            DidNumber(
                number=f"+1555{index:02d}{n:05d}",
                workspace_id=workspace.id,
                user_id=creator.id,
                monthly_cost=rng.choice((100, 150, 300)),
                setup_cost=0,
                public_id=f"did-{slug}-{n}",
                country="CA",
                region="ON",
            )
        )
        data.bump("did_numbers")
    _seed_calls(
        uow,
        data,
        rng,
        workspace_id=workspace.id,
        user_id=creator.id,
        slug=slug,
        calls=calls,
        start=start,
    )


def _seed_seats(
    uow: UnitOfWork, data: DemoDataset, *, workspace_id: int, creator_id: int, slug: str, seats: int
) -> None:
    for seat in range(seats):
        user_id = creator_id
        if seat:
            member = uow.users.add(
                user=User(
                    name=f"{slug} {seat}",
                    username=f"{slug}-{seat}",
                    email=f"agent{seat}@{slug}.example",
                )
            )
            assert member.id is not None
            user_id = member.id
        uow.session.add(
            WorkspaceUser(
                workspace_id=workspace_id,
                user_id=user_id,
                status="ACTIVE",
                public_id=f"wu-{slug}-{seat}",
                manage_calls=True,
            )
        )
        data.bump("seats")


def _seed_calls(
    uow: UnitOfWork,
    data: DemoDataset,
    rng: random.Random,
    *,
    workspace_id: int,
    user_id: int,
    slug: str,
    calls: int,
    start: datetime,
) -> None:
    for n in range(calls):
        started = start + timedelta(minutes=rng.randint(0, 28 * 24 * 60))
        duration = rng.choice((0, 12, 45, 60, 61, 180, 600, 1800))
        call = Call(
            api_id=f"call-{slug}-{n}",
            from_=f"+1555000{n:04d}",
            to=f"+1666000{n:04d}",
            status="ended",
            direction=rng.choice(("inbound", "outbound")),
            duration=duration,
            user_id=user_id,
            workspace_id=workspace_id,
            started_at=started,
            ended_at=started + timedelta(seconds=duration),
            created_at=started,
        )
        uow.session.add(call)
        uow.session.flush()
        # internals-api writes the full price of the call as a CALL debit (1.9¢/min, per minute).
        cents = -(-duration // 60) * 2 if duration else 0
        uow.debits.add(
            debit=Debit(
                workspace_id=workspace_id,
                user_id=user_id,
                cents=cents,
                source="CALL",
                status="CREATED",
                module_id=call.id,
                created_at=started,
            )
        )
        data.bump("calls")


def _seed_logs(uow: UnitOfWork, data: DemoDataset, rng: random.Random, *, now: datetime) -> None:
    workspace_ids = list(data.workspaces.values())
    for n in range(60):
        age = timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
        uow.session.add(
            DebuggerLog(
                from_="+15550001111",
                to="+15550002222",
                title=f"flow step {n}",
                report="{}",
                workspace_id=rng.choice(workspace_ids),
                api_id=f"log-{n}",
                created_at=now - age,
            )
        )
        data.bump("debugger_logs")
    for n in range(15):
        uow.session.add(
            ErrorUserTrace(
                message=f"widget failed ({n})",
                full_url="https://app.lineblocs.example/flows",
                workspace_id=rng.choice(workspace_ids),
                created_at=now - timedelta(days=rng.randint(0, 20)),
            )
        )
        data.bump("error_user_traces")

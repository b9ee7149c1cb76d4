"""What the billing benchmarks share: a RabbitMQ vhost of their own, many subscriptions fast.

Billing's queue is named `billing` (workers consume it by that name), so a benchmark cannot use
a `bench.*` queue: it gets a throw-away vhost (rabbitmqctl, as the test suite does), deleted at
the end with everything in it. Databases come from `invoice_preview.bench_database`.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, insert

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Card, ServicePlan, Subscription
from lineblocs_shared.models.tenants import User, Workspace

CHUNK = 5_000
PLAN_PRICE_CENTS = 2_499


@contextmanager
def bench_vhost(amqp_url: str) -> Iterator[str]:
    """The AMQP URL of a new vhost `lbj-bench-<hex>` on the server of `amqp_url`."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError("the billing benchmarks need rabbitmqctl (a vhost of their own)")
    vhost = f"lbj-bench-{uuid.uuid4().hex[:10]}"
    server = urlsplit(amqp_url)
    user = server.username or "guest"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, timeout=60)
    try:
        subprocess.run(
            [ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
            check=True,
            timeout=60,
        )
        yield urlunsplit(server._replace(path=f"/{vhost}"))
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, timeout=60)


@dataclass(frozen=True)
class DuePeriod:
    start: datetime
    end: datetime

    @classmethod
    def ended_yesterday(cls) -> DuePeriod:
        """Due now (the system clock's), the next one a month away: one period each."""
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = today - timedelta(days=1)
        return cls(start=end - relativedelta(months=1), end=end)


def seed_billable(
    engine: Engine, count: int, *, period: DuePeriod, cards: bool, first_id: int = 1
) -> None:
    """`count` monthly subscriptions on one 24.99 plan, each in a workspace of its own whose
    creator has a customer id (and, with `cards`, a primary card the fake gateway accepts).
    Rows get explicit ids from `first_id`, so one batch of INSERTs per table and chunk."""
    stamp = period.start - timedelta(days=90)
    with UnitOfWork(engine) as uow:
        plan = uow.plans.add(
            plan=ServicePlan(key_name="bench", nice_name="Bench", created_at=stamp),
            monthly_cost_cents=PLAN_PRICE_CENTS,
        ).plan
        uow.commit()
        plan_id = plan.id
    assert plan_id is not None
    for offset in range(0, count, CHUNK):
        ids = range(first_id + offset, first_id + min(offset + CHUNK, count))
        with engine.begin() as conn:
            conn.execute(insert(User), _users(ids, stamp))
            conn.execute(insert(Workspace), _workspaces(ids, stamp))
            conn.execute(insert(Subscription), _subscriptions(ids, plan_id, period))
            if cards:
                conn.execute(insert(Card), _cards(ids, stamp))


def _rows(template: Any, values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per `values`, the model's defaults (every NOT NULL column) from `template`:
    dumping a model per row would make seeding 100,000 subscriptions take a minute."""
    base = template.model_dump()
    return [{**base, **changes} for changes in values]


def _users(ids: range, stamp: datetime) -> list[dict[str, Any]]:
    template = User(name="Bench", username="", email="", created_at=stamp, updated_at=stamp)
    return _rows(
        template,
        (
            {
                "id": n,
                "username": f"bench-{n}",
                "email": f"bench-{n}@example.com",
                "stripe_id": f"cus_bench_{n}",
            }
            for n in ids
        ),
    )


def _workspaces(ids: range, stamp: datetime) -> list[dict[str, Any]]:
    template = Workspace(name="", creator_id=0, created_at=stamp, updated_at=stamp)
    return _rows(template, ({"id": n, "name": f"bench-{n}", "creator_id": n} for n in ids))


def _subscriptions(ids: range, plan_id: int, period: DuePeriod) -> list[dict[str, Any]]:
    stamp = period.start - timedelta(days=90)
    template = Subscription(
        workspace_id=0,
        current_plan_id=plan_id,
        billing_cycle=BillingCycle.MONTHLY,
        status="ACTIVE",
        created_at=stamp,
        updated_at=stamp,
        current_period_end=period.end,
        next_billing_date=period.end,
        billing_anchor_day=period.end.day,
    )
    return _rows(template, ({"id": n, "workspace_id": n} for n in ids))


def _cards(ids: range, stamp: datetime) -> list[dict[str, Any]]:
    template = Card(
        workspace_id=0,
        issuer="visa",
        last_4="4242",
        primary=True,
        created_at=stamp,
        updated_at=stamp,
    )
    return _rows(
        template,
        (
            {"id": n, "workspace_id": n, "user_id": n, "stripe_payment_method_id": f"pm_bench_{n}"}
            for n in ids
        ),
    )

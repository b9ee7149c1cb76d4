"""The tenants the chaos test bills: one workspace per subscription, each with a Stripe card.

Every subscription has a plan of its own with its own price (1,000 + 7·n cents), so an amount
charged to the wrong customer, or an invoice adopted by the wrong workspace, shows as a
mismatch. Each workspace's creator is a localstripe customer whose card (4242…) succeeds.
Exactly one period is due: the one that ended yesterday at midnight UTC.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from tests.factories import make_card, make_plan, make_subscription, make_user, make_workspace
from tests.support.localstripe_server import TEST_SECRET_KEY, StripeCustomer, seed_customer

BASE_PRICE_CENTS = 1_000
PRICE_STEP_CENTS = 7


@dataclass(frozen=True)
class Tenant:
    workspace_id: int
    subscription_id: int
    customer_id: str
    payment_method_id: str
    price_cents: int  # one seat, no usage, no tax: the invoice total


@dataclass(frozen=True)
class DuePeriod:
    start: datetime
    end: datetime

    @classmethod
    def ended_yesterday(cls) -> DuePeriod:
        """Ends at yesterday's midnight UTC: due now, and the next one is a month away."""
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = today - timedelta(days=1)
        return cls(start=end - relativedelta(months=1), end=end)


def stripe_customers(localstripe_url: str, count: int) -> list[StripeCustomer]:
    """`count` customers with a good card, created straight in localstripe (a few seconds)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _n: seed_customer(localstripe_url), range(count)))


def seed_tenants(
    engine: Engine, customers: list[StripeCustomer], *, period: DuePeriod
) -> list[Tenant]:
    """One ACTIVE monthly subscription per customer, due for `period`; Stripe in test mode."""
    tenants = []
    with UnitOfWork(engine) as uow:
        for n, customer in enumerate(customers):
            price = BASE_PRICE_CENTS + PRICE_STEP_CENTS * n
            user = make_user(uow, stripe_id=customer.customer_id)
            workspace = make_workspace(uow, creator=user)
            plan = make_plan(uow, monthly_cost_cents=price, key_name=f"chaos-{n}")
            subscription = make_subscription(
                uow,
                workspace=workspace,
                plan=plan,
                created_at=period.start - timedelta(days=90),
                next_billing_date=period.end,
                current_period_end=period.end,
                billing_anchor_day=period.end.day,
            )
            make_card(
                uow,
                workspace=workspace,
                primary=True,
                stripe_payment_method_id=customer.payment_method_id,
            )
            assert workspace.id is not None
            assert subscription.id is not None
            tenants.append(
                Tenant(
                    workspace_id=workspace.id,
                    subscription_id=subscription.id,
                    customer_id=customer.customer_id,
                    payment_method_id=customer.payment_method_id,
                    price_cents=price,
                )
            )
        uow.session.add(CustomizationsKVStore.of("payment_gateway", "stripe"))
        uow.session.add(ApiCredentialsKVStore.of("stripe_mode", "test"))
        uow.session.add(ApiCredentialsKVStore.of("stripe_test_private_key", TEST_SECRET_KEY))
        uow.commit()
    return tenants

"""Plans, subscriptions, invoices, debits and cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, bindparam, or_, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlmodel import Session, col

from lineblocs_shared.db.probe import SchemaProbe
from lineblocs_shared.db.types import round_half_up
from lineblocs_shared.models.billing import (
    Card,
    Debit,
    Invoice,
    InvoiceLineItem,
    ServicePlan,
    Subscription,
)
from lineblocs_shared.models.tenants import Workspace


@dataclass(frozen=True)
class PricedPlan:
    """A plan with its monthly price, read from whichever price column the database has."""

    plan: ServicePlan
    monthly_cost_cents: int

    def price_cents(self, *, annual: bool) -> int:
        return self.plan.annual_cost_cents if annual else self.monthly_cost_cents


class ServicePlanRepository:
    def __init__(self, *, session: Session, probe: SchemaProbe) -> None:
        self._session = session
        price = probe.plan_monthly_price_column
        # A lightweight table clause naming the price column the way this database does.
        self._prices = sa_table(
            "service_plans", sa_column("id", Integer), sa_column(price, Integer)
        )
        self._price = self._prices.c[price]

    @property
    def price_column(self) -> str:
        """The name of the monthly price column in this database (for queries of their own)."""
        return self._price.name

    def get(self, *, plan_id: int) -> PricedPlan | None:
        """Soft-deleted plans included: they still bill the subscriptions that point at them."""
        plan = self._session.get(ServicePlan, plan_id)
        if plan is None:
            return None
        stmt = select(self._price).where(self._prices.c.id == plan_id)
        cents = self._session.execute(stmt).scalar_one()
        return PricedPlan(plan=plan, monthly_cost_cents=round_half_up(cents))

    def add(self, *, plan: ServicePlan, monthly_cost_cents: int) -> PricedPlan:
        self._session.add(plan)
        self._session.flush()
        self._session.execute(
            update(self._prices)
            .where(self._prices.c.id == plan.id)
            .values({self._price.name: monthly_cost_cents})
        )
        return PricedPlan(plan=plan, monthly_cost_cents=monthly_cost_cents)


class SubscriptionRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, subscription_id: int) -> Subscription | None:
        return self._session.get(Subscription, subscription_id)

    def add(self, *, subscription: Subscription) -> Subscription:
        self._session.add(subscription)
        self._session.flush()
        return subscription

    def active_page(self, *, after_id: int, limit: int) -> Sequence[Subscription]:
        """ACTIVE subscriptions of active workspaces, by id after `after_id` (keyset paging)."""
        stmt = (
            select(Subscription)
            .join(Workspace, col(Workspace.id) == col(Subscription.workspace_id))
            .where(col(Subscription.status) == "ACTIVE", col(Workspace.active).is_(True))
            .where(col(Subscription.id) > after_id)
            .order_by(col(Subscription.id))
            .limit(limit)
        )
        return self._session.execute(stmt).scalars().all()


class InvoiceRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, invoice_id: int) -> Invoice | None:
        return self._session.get(Invoice, invoice_id)

    def by_dedup_key(self, *, deduplication_key: str) -> Invoice | None:
        stmt = select(Invoice).where(col(Invoice.deduplication_key) == deduplication_key)
        return self._session.execute(stmt.order_by(col(Invoice.id)).limit(1)).scalars().first()

    def add(self, *, invoice: Invoice, line_items: Sequence[InvoiceLineItem]) -> Invoice:
        self._session.add(invoice)
        self._session.flush()
        for item in line_items:
            item.invoice_id = invoice.id
            self._session.add(item)
        self._session.flush()
        return invoice

    def line_items(self, *, invoice_id: int) -> Sequence[InvoiceLineItem]:
        stmt = select(InvoiceLineItem).where(col(InvoiceLineItem.invoice_id) == invoice_id)
        return self._session.execute(stmt.order_by(col(InvoiceLineItem.id))).scalars().all()


class DebitRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def by_dedup_key(self, *, deduplication_key: str) -> Debit | None:
        stmt = select(Debit).where(col(Debit.deduplication_key) == deduplication_key).limit(1)
        return self._session.execute(stmt).scalars().first()

    def add(self, *, debit: Debit) -> Debit:
        self._session.add(debit)
        self._session.flush()
        return debit

    def for_workspace_between(
        self, *, workspace_id: int, start: datetime, end: datetime
    ) -> Sequence[Debit]:
        """Debits of the half-open period [start, end)."""
        stmt = select(Debit).where(
            col(Debit.workspace_id) == workspace_id,
            col(Debit.created_at) >= start,
            col(Debit.created_at) < end,
        )
        return self._session.execute(stmt.order_by(col(Debit.id))).scalars().all()


class CardRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def add(self, *, card: Card) -> Card:
        self._session.add(card)
        self._session.flush()
        return card

    def default_for_workspace(self, *, workspace_id: int) -> Card | None:
        """The primary card, else the backup card (lowest id wins a tie)."""
        rows = self._session.execute(DEFAULT_CARD, {"workspace_id": workspace_id})
        return rows.scalars().first()


# Built once (billing reads it for every bill): building an ORM statement per call costs more
# CPU than its round trip.
DEFAULT_CARD = (
    select(Card)
    .where(col(Card.workspace_id) == bindparam("workspace_id", type_=Integer))
    .where(or_(col(Card.primary).is_(True), col(Card.backup).is_(True)))
    .order_by(col(Card.primary).desc(), col(Card.id))
    .limit(1)
)

"""`read_subject`: the one query that reads what billing a subscription's period needs first.

Subscription, workspace, plan and price (whichever price column this database has), seats of the
period, the primary tax and, for billing, the period's own records: one row. Built once per
shape (price column, with or without the records) with bind parameters: building a statement
and its cache key costs more CPU than the round trip.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from lineblocs_billing.invoicing.inputs import (
    BillingSubject,
    PlanTerms,
    PrimaryTax,
    SubscriptionTerms,
    WorkspaceTerms,
)
from lineblocs_shared.db.types import UTCDateTime, round_half_up
from lineblocs_shared.models.billing import (
    BillingCycle,
    BillingTax,
    ServicePlan,
    Subscription,
)
from lineblocs_shared.models.billing_runs import BillingPeriodRecord
from lineblocs_shared.models.tenants import Workspace, WorkspaceUser

SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
SEATS: Table = WorkspaceUser.__table__  # type: ignore[attr-defined]
PLANS: Table = ServicePlan.__table__  # type: ignore[attr-defined]
PERIODS: Table = BillingPeriodRecord.__table__  # type: ignore[attr-defined]
TAXES: Table = BillingTax.__table__  # type: ignore[attr-defined]


def read_subject(
    session: Session,
    *,
    subscription_id: int,
    start: datetime,
    end: datetime,
    price_column: str,
    with_records: bool,
) -> BillingSubject | None:
    """The subscription with its workspace, plan, seats of [start, end), primary tax and, when
    `with_records`, the period's records (keyed by `start`); None when it does not exist.

    Billing asks for the records; the preview does not, so it still reads no table of ours."""
    stmt = subject_statement(price_column, with_records=with_records)
    row = session.execute(
        stmt, {"subscription_id": subscription_id, "start": start, "end": end}
    ).first()
    if row is None:
        return None
    values = row._mapping
    return BillingSubject(
        subscription=_terms(SubscriptionTerms, values, "s_"),
        workspace=None if values["w_id"] is None else _terms(WorkspaceTerms, values, "w_"),
        plan=None if values["p_id"] is None else _plan_terms(values),
        creator_workspaces=int(values["creator_workspaces"] or 0),
        seats=max(int(values["seats"]), 1),
        tax=_tax(values),
        record_of_subscription=values.get("record_of_subscription"),
        record_of_workspace=values.get("record_of_workspace"),
    )


def _terms(cls: Any, values: Any, prefix: str) -> Any:
    return cls(**{f.name: values[prefix + f.name] for f in fields(cls)})


def _plan_terms(values: Any) -> PlanTerms:
    return PlanTerms(
        id=values["p_id"],
        annual_cost_cents=values["p_annual_cost_cents"],
        minutes_per_month=values["p_minutes_per_month"],
        pay_as_you_go=values["p_pay_as_you_go"],
        # INT or DOUBLE(8,2) across Lineblocs versions: whole cents, half up.
        monthly_cost_cents=round_half_up(values["p_monthly_cost_cents"]),
    )


def _tax(values: Any) -> PrimaryTax | None:
    percentage = values["tax_percentage"]
    if percentage is None:  # NOT NULL in the table: no primary tax row matched
        return None
    # DOUBLE(8,2): str() gives the decimal the admin typed (13.0, 14.98), not a binary float.
    return PrimaryTax(name=values["tax_name"], percentage=Decimal(str(percentage)))


_PLAN_COLUMNS = ("id", "annual_cost_cents", "minutes_per_month", "pay_as_you_go")


@cache
def subject_statement(price_column: str, *, with_records: bool) -> Select[Any]:
    plans = _plans_table(price_column)
    subscription = SUBSCRIPTIONS.c
    columns: list[ColumnElement[Any]] = [
        *(subscription[f.name].label(f"s_{f.name}") for f in fields(SubscriptionTerms)),
        *(WORKSPACES.c[f.name].label(f"w_{f.name}") for f in fields(WorkspaceTerms)),
        *(plans.c[name].label(f"p_{name}") for name in _PLAN_COLUMNS),
        plans.c[price_column].label("p_monthly_cost_cents"),
        _created_workspaces().label("creator_workspaces"),
        _seat_count().label("seats"),
        _primary_tax(TAXES.c.name).label("tax_name"),
        _primary_tax(TAXES.c.tax_percentage).label("tax_percentage"),
    ]
    if with_records:
        columns += [
            _record_id(PERIODS.c.subscription_id == subscription.id).label(
                "record_of_subscription"
            ),
            _record_id(
                PERIODS.c.workspace_id == subscription.workspace_id,
                PERIODS.c.cycle == _cycle_of(subscription.billing_cycle),
            ).label("record_of_workspace"),
        ]
    joined = SUBSCRIPTIONS.outerjoin(
        WORKSPACES, WORKSPACES.c.id == subscription.workspace_id
    ).outerjoin(plans, plans.c.id == subscription.current_plan_id)
    return (
        select(*columns)
        .select_from(joined)
        .where(subscription.id == bindparam("subscription_id", type_=Integer))
    )


def _plans_table(price_column: str) -> Any:
    """service_plans with the columns billing reads, its price column named as this database
    names it (the model maps neither name: see `lineblocs_shared.models.billing`)."""
    return sa_table(
        PLANS.name,
        *(sa_column(name, PLANS.c[name].type) for name in _PLAN_COLUMNS),
        sa_column(price_column, Integer),
    )


def _created_workspaces() -> ColumnElement[int]:
    created = WORKSPACES.alias("created")
    return (
        select(func.count())
        .where(created.c.creator_id == WORKSPACES.c.creator_id)
        .scalar_subquery()
    )


def _seat_count() -> ColumnElement[int]:
    """ACTIVE members, and TERMINATED ones whose termination falls in the period."""
    start, end = _period_bounds()
    terminated_in_period = and_(
        func.upper(SEATS.c.status) == "TERMINATED",
        SEATS.c.terminated_account_at >= start,
        SEATS.c.terminated_account_at < end,
    )
    return (
        select(func.count())
        .where(
            SEATS.c.workspace_id == SUBSCRIPTIONS.c.workspace_id,
            SEATS.c.deleted_at.is_(None),
            or_(func.upper(SEATS.c.status) == "ACTIVE", terminated_in_period),
        )
        .scalar_subquery()
    )


def _record_id(*where: ColumnElement[bool]) -> ColumnElement[int]:
    """The lowest id of the period's records matching `where` (the first one written)."""
    start, _ = _period_bounds()
    return (
        select(func.min(PERIODS.c.id))
        .where(PERIODS.c.period_start == start, *where)
        .scalar_subquery()
    )


def _cycle_of(billing_cycle: ColumnElement[Any]) -> ColumnElement[str]:
    # Our cycle names are compared with constants, never with the Lineblocs ENUM column itself:
    # the two tables need not share a collation, and MariaDB refuses to compare mixed ones.
    return case(
        (billing_cycle == BillingCycle.ANNUAL, literal(BillingCycle.ANNUAL.value)),
        else_=literal(BillingCycle.MONTHLY.value),
    )


def _period_bounds() -> tuple[ColumnElement[datetime], ColumnElement[datetime]]:
    return bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime)


def _primary_tax(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`column` of the primary tax of the workspace's region, else of its country (a row
    without region); among several, the region's first, then the lowest id. A NULL region or
    country matches no row."""
    by_region = TAXES.c.region_id == WORKSPACES.c.billing_region_id
    by_country = and_(
        TAXES.c.country_id == WORKSPACES.c.billing_country_id, TAXES.c.region_id.is_(None)
    )
    # A region's row has a region, a country's row has none: "region first" needs no outer
    # column in ORDER BY (which SQLite does not resolve in a subquery).
    region_first = case((TAXES.c.region_id.is_(None), 1), else_=0)
    return (
        select(column)
        .where(TAXES.c.primary_tax.is_(True), or_(by_region, by_country))
        .order_by(region_first, TAXES.c.id)
        .limit(1)
        .scalar_subquery()
    )

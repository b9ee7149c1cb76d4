"""The distributor's queries: billable subscriptions by keyset page, and settled periods.

Memory stays bounded by one page whatever the number of subscriptions (`db.paging`: one short
query per page, joining workspaces, nothing held open while messages are published). The page
query also
flags each subscription whose workspace has a settled `lbj_billing_periods` row ending at or
after its next period's end (an EXISTS on the table's unique key); only a page with a flagged
subscription costs a second query, for the exact settled periods. Normally no period is both
due and settled: the bill handler advances `next_billing_date` in the transaction that settles
a period's row, so flags are rare (a date the site moved back, a workspace's new subscription).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, case, exists, func, literal, or_, select
from sqlmodel import col

from lineblocs_billing.invoicing.periods import default_period_end
from lineblocs_shared.db.paging import keyset_pages
from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.billing import BillingCycle, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.models.tenants import Workspace

DEFAULT_PAGE_SIZE = 1000

# A period in one of these states is done, or owned by dunning: the distributor leaves it alone.
# INVOICED is not among them: its settling did not finish, and a bill message resumes it.
SETTLED_STATES = frozenset(
    {PeriodState.PAID, PeriodState.FAILED, PeriodState.NOTHING_DUE, PeriodState.GAVE_UP}
)

# (cycle, workspace id, period start): the unique key of lbj_billing_periods.
PeriodKey = tuple[str, int, datetime]


@dataclass(frozen=True)
class BillableSubscription:
    """The columns of a subscription that say which periods it owes."""

    id: int
    workspace_id: int
    billing_cycle: BillingCycle
    next_billing_date: datetime | None
    billing_anchor_day: int | None
    # Its workspace has a settled period ending at or after this subscription's first due end.
    may_have_settled: bool = False


def _billable(now: datetime) -> list[ColumnElement[bool]]:
    """Billing rule R-PERIOD-1, in SQL. A NULL next_billing_date means the period ends at the
    start of this month or year, which is always <= now: such a subscription is always billable."""
    next_date = col(Subscription.next_billing_date)
    return [
        col(Subscription.status) == "ACTIVE",
        col(Workspace.active).is_(True),
        or_(next_date.is_(None), next_date <= now),
    ]


def _settled_from_first_due(now: datetime) -> ColumnElement[bool]:
    """EXISTS a settled period of the workspace and cycle ending at or after the first due
    period's end (every due period ends there or later)."""
    periods = BillingPeriodRecord
    default_end = case(
        (
            col(Subscription.billing_cycle) == BillingCycle.ANNUAL,
            literal(default_period_end(now, BillingCycle.ANNUAL), UTCDateTime),
        ),
        else_=literal(default_period_end(now, BillingCycle.MONTHLY), UTCDateTime),
    )
    first_end = func.coalesce(col(Subscription.next_billing_date), default_end)
    return exists().where(
        col(periods.cycle) == col(Subscription.billing_cycle),
        col(periods.workspace_id) == col(Subscription.workspace_id),
        col(periods.period_end) >= first_end,
        col(periods.state).in_(sorted(SETTLED_STATES)),
    )


def billable_pages(
    engine: Engine, *, now: datetime, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[list[BillableSubscription]]:
    """Every billable subscription, by ascending id, one page (one query) at a time."""
    query = (
        select(
            col(Subscription.id),
            col(Subscription.workspace_id),
            col(Subscription.billing_cycle),
            col(Subscription.next_billing_date),
            col(Subscription.billing_anchor_day),
            _settled_from_first_due(now).label("may_have_settled"),
        )
        .join(Workspace, col(Workspace.id) == col(Subscription.workspace_id))
        .where(*_billable(now))
    )
    for rows in keyset_pages(engine, query, key=col(Subscription.id), page_size=page_size):
        yield [
            BillableSubscription(
                id=row.id,
                workspace_id=row.workspace_id,
                billing_cycle=BillingCycle(row.billing_cycle),
                next_billing_date=row.next_billing_date,
                billing_anchor_day=row.billing_anchor_day,
                may_have_settled=bool(row.may_have_settled),
            )
            for row in rows
        ]


def count_billable(engine: Engine, *, now: datetime) -> int:
    """How many subscriptions `billable_pages` will yield (for a progress bar's total)."""
    stmt = (
        select(func.count())
        .select_from(Subscription)
        .join(Workspace, col(Workspace.id) == col(Subscription.workspace_id))
        .where(*_billable(now))
    )
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def settled_periods(engine: Engine, keys: Collection[PeriodKey]) -> set[PeriodKey]:
    """Which of `keys` (periods of flagged subscriptions) have a settled row, in one query.

    The filter (cycle IN, workspace_id IN, period_start >= oldest) is a range on the table's
    unique key; the exact (cycle, workspace, start) match is made here.
    """
    if not keys:
        return set()
    stmt = select(
        col(BillingPeriodRecord.cycle),
        col(BillingPeriodRecord.workspace_id),
        col(BillingPeriodRecord.period_start),
    ).where(
        col(BillingPeriodRecord.cycle).in_(sorted({key[0] for key in keys})),
        col(BillingPeriodRecord.workspace_id).in_(sorted({key[1] for key in keys})),
        col(BillingPeriodRecord.period_start) >= min(key[2] for key in keys),
        col(BillingPeriodRecord.state).in_(sorted(SETTLED_STATES)),
    )
    with engine.connect() as conn:
        found = {(row[0], row[1], row[2]) for row in conn.execute(stmt)}
    return found & set(keys)

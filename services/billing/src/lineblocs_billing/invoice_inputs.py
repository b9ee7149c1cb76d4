"""The other facts an invoice needs, one query each: seats, the primary tax, number rentals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from lineblocs_billing.periods import BillingPeriod
from lineblocs_shared.models.billing import BillingTax, Debit
from lineblocs_shared.models.tenants import Workspace, WorkspaceUser
from lineblocs_shared.models.usage import DidNumber


@dataclass(frozen=True)
class NumberRental:
    """A NUMBER_RENTAL debit billing writes once per active DID and period (rules §2)."""

    did_id: int
    cents: int
    deduplication_key: str


@dataclass(frozen=True)
class PrimaryTax:
    name: str
    percentage: Decimal


def rental_key(did_id: int, period: BillingPeriod) -> str:
    return f"NUMBER_RENTAL:{did_id}:{period.key_date}"


def created_workspaces(session: Session, *, user_id: int) -> int:
    stmt = select(func.count()).where(col(Workspace.creator_id) == user_id)
    return int(session.execute(stmt).scalar_one())


def seat_count(session: Session, *, workspace_id: int, start: datetime, end: datetime) -> int:
    """ACTIVE members, and TERMINATED ones whose termination falls in the period; at least 1."""
    terminated_in_period = and_(
        func.upper(col(WorkspaceUser.status)) == "TERMINATED",
        col(WorkspaceUser.terminated_account_at) >= start,
        col(WorkspaceUser.terminated_account_at) < end,
    )
    stmt = select(func.count()).where(
        col(WorkspaceUser.workspace_id) == workspace_id,
        col(WorkspaceUser.deleted_at).is_(None),
        or_(func.upper(col(WorkspaceUser.status)) == "ACTIVE", terminated_in_period),
    )
    return max(int(session.execute(stmt).scalar_one()), 1)


def primary_tax(
    session: Session, *, region_id: int | None, country_id: int | None
) -> PrimaryTax | None:
    """The primary tax of the workspace's region, else of its country (a row without region)."""
    by_region = col(BillingTax.region_id) == region_id if region_id is not None else None
    by_country = (
        and_(col(BillingTax.country_id) == country_id, col(BillingTax.region_id).is_(None))
        if country_id is not None
        else None
    )
    matches = [m for m in (by_region, by_country) if m is not None]
    if not matches:
        return None
    region_first = [case((by_region, 0), else_=1)] if by_region is not None else []
    stmt = (
        select(col(BillingTax.name), col(BillingTax.tax_percentage))
        .where(col(BillingTax.primary_tax).is_(True), or_(*matches))
        .order_by(*region_first, col(BillingTax.id))
        .limit(1)
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    # DOUBLE(8,2): str() gives the decimal the admin typed (13.0, 14.98), not a binary float.
    return PrimaryTax(name=row.name, percentage=Decimal(str(row.tax_percentage)))


def rentals_to_write(
    session: Session, *, workspace_id: int, period: BillingPeriod, months: int
) -> list[NumberRental]:
    """One rental per active DID of the workspace whose debit for this period does not exist."""
    dids = session.execute(
        select(col(DidNumber.id), col(DidNumber.monthly_cost))
        .where(col(DidNumber.workspace_id) == workspace_id, col(DidNumber.active).is_(True))
        .order_by(col(DidNumber.id))
    ).all()
    if not dids:
        return []
    keys = {rental_key(int(did.id), period): did for did in dids}
    written = set(
        session.execute(
            select(col(Debit.deduplication_key)).where(col(Debit.deduplication_key).in_(list(keys)))
        ).scalars()
    )
    return [
        NumberRental(
            did_id=int(did.id), cents=int(did.monthly_cost) * months, deduplication_key=key
        )
        for key, did in keys.items()
        if key not in written
    ]

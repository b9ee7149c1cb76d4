"""A workspace's prepaid money: which credit and debit rows are its own, and its balance (Σ APPROVED
credits - Σ debits). Billing settles pay-as-you-go invoices with it (R-PAYG-1 in
docs/billing-rules.md); notifications compare it to usage triggers. One query whatever the row
count, built once per shape.

Rows are attributed by `workspace_id`; rows without one (older rows) belong to the workspace of
their `user_id` only when that user created exactly one workspace
(R-USAGE-1 in docs/billing-rules.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Subquery,
    Table,
    bindparam,
    func,
    select,
    union_all,
)
from sqlmodel import Session

from lineblocs_shared.db.rounding import whole_cents
from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.billing import Credit, Debit

DEBITS: Table = Debit.__table__  # type: ignore[attr-defined]
CREDITS: Table = Credit.__table__  # type: ignore[attr-defined]
APPROVED = "APPROVED"  # compared upper-case: MySQL's collation ignores case, SQLite's does not


@dataclass(frozen=True)
class Attribution:
    """Which rows are the workspace's: its own, plus its creator's rows without a workspace
    when the creator created exactly one workspace (this one)."""

    workspace_id: int
    creator_id: int
    creator_workspaces: int

    @property
    def includes_creator_rows(self) -> bool:
        return self.creator_workspaces == 1


def attributed_rows(
    table: Table,
    *,
    with_creator_rows: bool,
    columns: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
) -> Subquery:
    """The workspace's rows of `table` as a subquery, for the parameters `workspace_id` and
    `creator_id` (`scope_parameters`); UNION ALL keeps each half on an index."""
    own = select(*columns).where(table.c.workspace_id == bindparam("workspace_id"), *where)
    if not with_creator_rows:
        return own.subquery()
    creators = select(*columns).where(
        table.c.workspace_id.is_(None), table.c.user_id == bindparam("creator_id"), *where
    )
    return union_all(own, creators).subquery()


def scope_parameters(scope: Attribution) -> dict[str, Any]:
    return {"workspace_id": scope.workspace_id, "creator_id": scope.creator_id}


def as_int(value: object) -> int:
    """A SUM from MySQL is a DECIMAL: exact, and integral for sums of integers."""
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"expected an integral sum, got {value}")
        return int(value)
    return int(value or 0)  # type: ignore[call-overload]


def balance_before(
    session: Session | Connection,
    scope: Attribution,
    *,
    before: datetime,
    excluding_debit_key: str | None = None,
) -> int:
    """Σ APPROVED credits - Σ debits of the workspace created before `before`, in cents.

    Billing leaves out the period's own SUBSCRIPTION debit by its key: it is dated at the period
    end, so it is outside the sum anyway, and stays outside even if a clock skew put it earlier.
    """
    parameters = {**scope_parameters(scope), "before": before, "excluded": excluding_debit_key}
    stmt = _balance_statement(scope.includes_creator_rows, excluding_debit_key is not None)
    credit_total, debit_total = session.execute(stmt, parameters).one()
    return as_int(credit_total) - as_int(debit_total)


def latest_approved_credit(conn: Connection, scope: Attribution) -> tuple[int, int] | None:
    """(id, cents) of the workspace's newest APPROVED credit (by creation, then id), or None."""
    credits = attributed_rows(
        CREDITS,
        with_creator_rows=scope.includes_creator_rows,
        columns=[CREDITS.c.id, CREDITS.c.created_at, whole_cents(CREDITS.c.cents).label("cents")],
        where=[func.upper(CREDITS.c.status) == APPROVED],
    )
    newest = select(credits.c.id, credits.c.cents).order_by(
        credits.c.created_at.desc(), credits.c.id.desc()
    )
    row = conn.execute(newest.limit(1), scope_parameters(scope)).first()
    return None if row is None else (int(row.id), int(row.cents))


@cache
def _balance_statement(with_creator_rows: bool, excluding_a_debit: bool) -> Select[Any]:
    before = bindparam("before", type_=UTCDateTime)
    credits = attributed_rows(
        CREDITS,
        with_creator_rows=with_creator_rows,
        columns=[whole_cents(CREDITS.c.cents).label("cents")],
        where=[func.upper(CREDITS.c.status) == APPROVED, CREDITS.c.created_at < before],
    )
    debit_filter = [DEBITS.c.created_at < before]
    if excluding_a_debit:
        key = func.coalesce(DEBITS.c.deduplication_key, "")
        debit_filter.append(key != bindparam("excluded", type_=String))
    debits = attributed_rows(
        DEBITS,
        with_creator_rows=with_creator_rows,
        columns=[whole_cents(DEBITS.c.cents).label("cents")],
        where=debit_filter,
    )
    credited = select(func.coalesce(func.sum(credits.c.cents), 0)).scalar_subquery()
    debited = select(func.coalesce(func.sum(debits.c.cents), 0)).scalar_subquery()
    return select(credited, debited)

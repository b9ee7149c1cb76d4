"""A pay-as-you-go workspace's balance before a period ends: APPROVED credits - debits (rules §4).

One query whatever the row count, built once per shape like the usage query (`usage.py`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    String,
    bindparam,
    func,
    select,
)
from sqlmodel import Session

from lineblocs_billing.invoicing.rounding import whole_cents
from lineblocs_billing.invoicing.usage import (
    CREDITS,
    DEBITS,
    Attribution,
    as_int,
    attributed_rows,
    scope_parameters,
)
from lineblocs_shared.db.types import UTCDateTime


def balance_before(
    session: Session, scope: Attribution, *, before: datetime, excluding_debit_key: str
) -> int:
    """Σ APPROVED credits - Σ debits of the workspace created before `before` (rules §4).

    The period's own SUBSCRIPTION debit is excluded by key: it is dated at the period end, so
    it is outside the sum anyway, and stays outside even if a clock skew put it earlier.
    """
    parameters = {**scope_parameters(scope), "before": before, "excluded": excluding_debit_key}
    stmt = _balance_statement(scope.includes_creator_rows)
    credit_total, debit_total = session.execute(stmt, parameters).one()
    return as_int(credit_total) - as_int(debit_total)


@cache
def _balance_statement(with_creator_rows: bool) -> Select[Any]:
    before = bindparam("before", type_=UTCDateTime)
    credits = attributed_rows(
        CREDITS,
        with_creator_rows=with_creator_rows,
        columns=[whole_cents(CREDITS.c.cents).label("cents")],
        where=[func.upper(CREDITS.c.status) == "APPROVED", CREDITS.c.created_at < before],
    )
    debits = attributed_rows(
        DEBITS,
        with_creator_rows=with_creator_rows,
        columns=[whole_cents(DEBITS.c.cents).label("cents")],
        where=[
            DEBITS.c.created_at < before,
            func.coalesce(DEBITS.c.deduplication_key, "") != bindparam("excluded", type_=String),
        ],
    )
    credited = select(func.coalesce(func.sum(credits.c.cents), 0)).scalar_subquery()
    debited = select(func.coalesce(func.sum(debits.c.cents), 0)).scalar_subquery()
    return select(credited, debited)

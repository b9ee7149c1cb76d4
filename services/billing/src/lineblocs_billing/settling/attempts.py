"""Our `lbj_payment_attempts` rows, and the period row they hang off, read under lock.

An attempt is committed before its gateway call (state `pending`), gets the gateway's payment id
as soon as the payment exists (`created`, committed before it is confirmed), and ends
`succeeded` or `declined`. `pending`/`created` are unresolved: a redelivery resumes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Integer, Table, bindparam, select
from sqlalchemy.orm import QueryableAttribute, load_only
from sqlmodel import Session, col

from lineblocs_shared.db.rows import insert_row, update_columns
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.billing_runs import AttemptState, BillingPeriodRecord, PaymentAttempt

UNRESOLVED = (AttemptState.PENDING, AttemptState.CREATED)
ATTEMPTS: Table = PaymentAttempt.__table__  # type: ignore[attr-defined]
# What settling reads and writes of an invoice; users_invoices has 30 columns.
SETTLING_COLUMNS: tuple[QueryableAttribute[Any], ...] = tuple(
    getattr(Invoice, name) for name in ("id", "status", "cents_including_taxes", "num_attempts")
)


@dataclass(frozen=True)
class LockedPeriod:
    record: BillingPeriodRecord
    invoice: Invoice | None  # None: the period has none, or the site deleted it


def attempt_key(workspace_id: int, period_start: datetime, attempt_no: int) -> str:
    """`lineblocs_<workspace id>_<period start Ymd>_<n>`: Stripe idempotency keys derive from it
    and it is Braintree's order_id, so a redelivery finds its payment again."""
    return f"lineblocs_{workspace_id}_{period_start:%Y%m%d}_{attempt_no}"


# Built once: an ORM statement built per call costs more CPU than its round trip (coercions and
# a cache key walked each time).
LOCK_PERIOD = (
    select(BillingPeriodRecord, Invoice)
    .outerjoin(Invoice, col(Invoice.id) == col(BillingPeriodRecord.invoice_id))
    .where(col(BillingPeriodRecord.id) == bindparam("period_id", type_=Integer))
    .options(load_only(*SETTLING_COLUMNS, raiseload=True))
    .with_for_update()
    .execution_options(populate_existing=True)
)
ATTEMPTS_OF_PERIOD = (
    select(PaymentAttempt)
    .where(col(PaymentAttempt.billing_period_id) == bindparam("period_id", type_=Integer))
    .order_by(col(PaymentAttempt.attempt_no))
)


class AttemptRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def lock_period(self, *, period_id: int) -> LockedPeriod | None:
        """The period row and its invoice's settling columns, both locked until the transaction
        ends (SQLite: its writer lock). One statement: settling writes both rows anyway, and a
        round trip is a tenth of a bill's CPU."""
        row = self._session.execute(LOCK_PERIOD, {"period_id": period_id}).first()
        return None if row is None else LockedPeriod(record=row[0], invoice=row[1])

    def of_period(self, *, period_id: int) -> list[PaymentAttempt]:
        rows = self._session.execute(ATTEMPTS_OF_PERIOD, {"period_id": period_id})
        return list(rows.scalars().all())

    def add(self, *, attempt: PaymentAttempt) -> PaymentAttempt:
        """INSERT the attempt (a Core statement, as every settling write) and set its id."""
        attempt.id = insert_row(self._session, attempt, ATTEMPTS)
        return attempt


def update_attempt(engine: Engine, attempt_id: int, **values: Any) -> None:
    """Set columns of one attempt in a short transaction of its own: one UPDATE, no read. Used
    between gateway calls, where the attempt row is ours alone (the period is held)."""
    with engine.begin() as conn:
        update_columns(conn, ATTEMPTS, attempt_id, **values)

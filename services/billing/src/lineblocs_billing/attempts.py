"""Our `lbj_payment_attempts` rows, and the period row they hang off, read under lock.

An attempt is committed before its gateway call (state `pending`), gets the gateway's payment id
as soon as the payment exists (`created`, committed before it is confirmed), and ends
`succeeded` or `declined`. `pending`/`created` are unresolved: a redelivery resumes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Update, select, update
from sqlmodel import Session, col

from lineblocs_shared.models.billing_runs import AttemptState, BillingPeriodRecord, PaymentAttempt

UNRESOLVED = (AttemptState.PENDING, AttemptState.CREATED)


def attempt_key(workspace_id: int, period_start: datetime, attempt_no: int) -> str:
    """`lineblocs_<workspace id>_<period start Ymd>_<n>`: Stripe idempotency keys derive from it
    and it is Braintree's order_id, so a redelivery finds its payment again."""
    return f"lineblocs_{workspace_id}_{period_start:%Y%m%d}_{attempt_no}"


class AttemptRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def lock_period(self, *, period_id: int) -> BillingPeriodRecord | None:
        """The period row, locked until the transaction ends (SQLite: its writer lock)."""
        stmt = (
            select(BillingPeriodRecord)
            .where(col(BillingPeriodRecord.id) == period_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self._session.execute(stmt).scalars().first()

    def of_period(self, *, period_id: int) -> list[PaymentAttempt]:
        stmt = (
            select(PaymentAttempt)
            .where(col(PaymentAttempt.billing_period_id) == period_id)
            .order_by(col(PaymentAttempt.attempt_no))
        )
        return list(self._session.execute(stmt).scalars().all())

    def add(self, *, attempt: PaymentAttempt) -> PaymentAttempt:
        self._session.add(attempt)
        self._session.flush()
        return attempt


def update_attempt(engine: Engine, attempt_id: int, **values: Any) -> None:
    """Set columns of one attempt in a short transaction of its own: one UPDATE, no read. Used
    between gateway calls, where the attempt row is ours alone (the period is held)."""
    with engine.begin() as conn:
        conn.execute(attempt_update(attempt_id, **values))


def attempt_update(attempt_id: int, **values: Any) -> Update:
    """One UPDATE of one attempt's columns, without reading it first."""
    return update(PaymentAttempt).where(col(PaymentAttempt.id) == attempt_id).values(**values)

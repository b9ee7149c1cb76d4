"""Our `lbj_billing_periods` rows: one per (cycle, workspace, period start), ever.

Inserting the row is the claim of the period: the database's unique key decides between two
writers. On MariaDB the second INSERT waits for the first transaction and then fails with a
duplicate key (or succeeds if the first rolled back); on SQLite writers are serialised by
BEGIN IMMEDIATE, so the second one finds the row before it tries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from lineblocs_shared.models.billing_runs import BillingPeriodRecord


class BillingPeriodRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(
        self, *, cycle: str, workspace_id: int, period_start: datetime
    ) -> BillingPeriodRecord | None:
        stmt = select(BillingPeriodRecord).where(
            col(BillingPeriodRecord.cycle) == cycle,
            col(BillingPeriodRecord.workspace_id) == workspace_id,
            col(BillingPeriodRecord.period_start) == period_start,
        )
        return self._session.execute(stmt).scalars().first()

    def of_subscription(
        self, *, subscription_id: int, period_start: datetime
    ) -> BillingPeriodRecord | None:
        """The record a message for this subscription and period already produced, if any."""
        stmt = select(BillingPeriodRecord).where(
            col(BillingPeriodRecord.subscription_id) == subscription_id,
            col(BillingPeriodRecord.period_start) == period_start,
        )
        return self._session.execute(stmt.order_by(col(BillingPeriodRecord.id))).scalars().first()

    def claim(self, *, record: BillingPeriodRecord) -> bool:
        """Insert `record` in a savepoint: True if it is ours, False if the key was taken."""
        try:
            with self._session.begin_nested():
                self._session.add(record)
                self._session.flush()
        except IntegrityError:
            return False
        return True

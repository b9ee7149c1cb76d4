"""Our `lbj_billing_periods` rows: one per (cycle, workspace, period start), ever.

Inserting the row is the claim of the period: the database's unique key decides between two
writers. On MariaDB the second INSERT waits for the first transaction and then fails with a
duplicate key (or succeeds if the first rolled back); on SQLite writers are serialised by
BEGIN IMMEDIATE, so the second one finds the row before it tries.

The claim and the record's outcome are written with Core statements: the ORM's unit of work
costs more CPU than the statements themselves, and nothing reads the row back in between.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from lineblocs_shared.db.rows import insert_row, update_columns
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState

PERIODS: Table = BillingPeriodRecord.__table__  # type: ignore[attr-defined]
# What writing the period's invoice decides, written once it is known (`record_outcome`).
OUTCOME_COLUMNS = ("invoice_id", "total_cents", "amount_due_cents", "state", "updated_at")


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

    def by_id(self, record_id: int | None) -> BillingPeriodRecord | None:
        return None if record_id is None else self._session.get(BillingPeriodRecord, record_id)

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
        """Insert `record` (setting its id): True if it is ours, False if the key was taken.

        No savepoint: a failed INSERT undoes itself alone and the transaction goes on, on
        MariaDB (InnoDB rolls back the statement) as on SQLite (the default ON CONFLICT ABORT).
        """
        try:
            record.id = insert_row(self._session, record, PERIODS)
        except IntegrityError:
            return False
        return True

    def record_outcome(self, *, record: BillingPeriodRecord) -> None:
        """Write the invoice, amounts, state and update time of the claimed `record`."""
        values = {name: getattr(record, name) for name in OUTCOME_COLUMNS}
        assert record.id is not None  # claimed
        update_columns(self._session, PERIODS, record.id, **values)


# Invoice statuses meaning the site closed the invoice itself: paid there, or nothing to collect.
PAID_STATUSES = frozenset({"PAID", "APPROVED"})
CLOSED_STATUSES = frozenset({"CANCELLED", "REFUNDED"})


def closed_on_site(invoice_status: str) -> PeriodState | None:
    """The period's final state when the site already closed its invoice; None when it is open."""
    status = invoice_status.upper()
    if status in PAID_STATUSES:
        return PeriodState.PAID
    if status in CLOSED_STATUSES:
        return PeriodState.NOTHING_DUE
    return None

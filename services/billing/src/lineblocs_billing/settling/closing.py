"""A period closed for good: nothing left to collect, no next try.

Paid, given up, or closed on the site (the invoice paid, cancelled or deleted there).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from lineblocs_billing.invoicing.period_records import closed_on_site
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_shared.db.rows import write_columns
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState

log = logging.getLogger(__name__)


def closed_columns(state: PeriodState, *, now: datetime) -> dict[str, Any]:
    """The columns of a period that is settled for good: no next try."""
    return {"state": state, "next_attempt_at": None, "updated_at": now}


def record_closed(
    uow: UnitOfWork, record: BillingPeriodRecord, state: PeriodState, *, now: datetime
) -> None:
    """Nothing left to collect: no charge, no event."""
    write_columns(uow.session, record, **closed_columns(state, now=now))


def closed_elsewhere(
    uow: UnitOfWork, record: BillingPeriodRecord, invoice: Invoice | None, *, now: datetime
) -> SettlingOutcome | None:
    """Close the period if its invoice was paid, cancelled or deleted on the site."""
    if invoice is None:
        log.warning("billing period %s: its invoice %s is gone", record.id, record.invoice_id)
        record_closed(uow, record, PeriodState.NOTHING_DUE, now=now)
        return SettlingOutcome.NOTHING_TO_DO
    state = closed_on_site(invoice.status)
    if state is None:
        return None
    log.info(
        "billing period %s: invoice %s is %s on the site", record.id, invoice.id, invoice.status
    )
    record_closed(uow, record, state, now=now)
    return SettlingOutcome.NOTHING_TO_DO

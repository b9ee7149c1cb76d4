"""The debits billing writes itself: number rentals, and the pay-as-you-go SUBSCRIPTION debit.

Each has a deduplication key of the period, so a debit is never written twice (R-USAGE-6, R-PAYG-2).
"""

from __future__ import annotations

from datetime import datetime

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.invoice_rows import InvoiceAmounts
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Debit


def write_rentals(uow: UnitOfWork, draft: InvoiceDraft, *, now: datetime) -> None:
    if not draft.rentals:
        return
    uow.session.add_all(
        Debit(
            created_at=draft.period.start,
            updated_at=now,
            user_id=draft.creator_id,
            workspace_id=draft.workspace_id,
            cents=rental.cents,
            source="NUMBER_RENTAL",
            status="CREATED",
            module_id=rental.did_id,
            deduplication_key=rental.deduplication_key,
        )
        for rental in draft.rentals
    )
    uow.session.flush()


def write_subscription_debit(
    uow: UnitOfWork, draft: InvoiceDraft, invoice: InvoiceAmounts, *, now: datetime
) -> None:
    """PAYG: membership + taxes become one debit, so the site's running balance sees them."""
    cents = invoice.membership_costs + invoice.cents_taxes
    key = draft.subscription_debit_key
    if cents == 0 or uow.debits.by_dedup_key(deduplication_key=key) is not None:
        return
    uow.debits.add(
        debit=Debit(
            created_at=draft.period.end,
            updated_at=now,
            user_id=draft.creator_id,
            workspace_id=draft.workspace_id,
            cents=cents,
            source="SUBSCRIPTION",
            status="CREATED",
            deduplication_key=key,
        )
    )

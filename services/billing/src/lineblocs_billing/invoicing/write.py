"""Writing a period's invoice: one transaction, once per workspace and period.

Rules R-PERIOD-6, R-INVOICE-1, R-INVOICE-2 and R-PAYG-2 of docs/billing-rules.md.

`write_invoice` first claims the period (`lbj_billing_periods`, unique per cycle, workspace and
period start: the database decides between concurrent writers), then writes in the caller's
transaction: the number rental debits, the invoice and its five line items (or adopts the one the
site already created with the same deduplication key), the PAYG SUBSCRIPTION debit, and the
subscription's dates, cancellation and scheduled plan change. The caller commits.

Every write is a Core statement built from the models' columns; nothing in the transaction
reads those rows back through the ORM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DataError

from lineblocs_billing.invoicing.debit_rows import write_rentals, write_subscription_debit
from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_billing.invoicing.inputs import SubscriptionTerms
from lineblocs_billing.invoicing.invoice_rows import InvoiceAmounts, insert_invoice, site_invoice
from lineblocs_billing.invoicing.period_records import BillingPeriodRepository, closed_on_site
from lineblocs_billing.invoicing.rules import PayBy, collect_pay_as_you_go
from lineblocs_shared.db.rows import update_columns
from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError
from lineblocs_shared.site_settings.reader import SiteSettings

logger = logging.getLogger(__name__)

SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]


class InvoiceNotWritable(FatalError):
    """The database refused a value (e.g. over 999,999.99 in an older DOUBLE(8,2) column)."""


@dataclass(frozen=True)
class Written:
    record: BillingPeriodRecord
    wrote: bool  # False: the period was already written (by an earlier or concurrent run)


def write_invoice(
    uow: UnitOfWork,
    draft: InvoiceDraft,
    *,
    subscription: SubscriptionTerms,
    now: datetime,
    site_settings: SiteSettings,
) -> Written:
    """Write `draft` once; a period already written is returned as it is, untouched.

    `subscription` is the subscription as read in this transaction, before `draft` was made.
    """
    now = whole_seconds(now)
    records = BillingPeriodRepository(session=uow.session)
    record = _claim_of(draft, now=now)
    if not records.claim(record=record):
        return Written(record=_winner(records, draft), wrote=False)
    try:
        _write_claimed(uow, record, draft, now=now, site_settings=site_settings)
        _advance_subscription(uow, draft, subscription, now=now)
        records.record_outcome(record=record)
    except DataError as exc:
        raise InvoiceNotWritable(
            f"workspace {draft.workspace_id}, period {draft.period.key_date}: "
            f"the database refused the invoice ({str(exc.orig).splitlines()[0]})"
        ) from exc
    return Written(record=record, wrote=True)


def _claim_of(draft: InvoiceDraft, *, now: datetime) -> BillingPeriodRecord:
    return BillingPeriodRecord(
        cycle=draft.cycle.value,
        workspace_id=draft.workspace_id,
        subscription_id=draft.subscription_id,
        period_start=draft.period.start,
        period_end=draft.period.end,
        state=PeriodState.INVOICED,
        created_at=now,
        updated_at=now,
    )


def _winner(records: BillingPeriodRepository, draft: InvoiceDraft) -> BillingPeriodRecord:
    winner = records.get(
        cycle=draft.cycle.value, workspace_id=draft.workspace_id, period_start=draft.period.start
    )
    if winner is None:  # the other writer rolled back between our INSERT and this read
        raise TransientError(f"period {draft.deduplication_key} changed hands: try again")
    return winner


def _write_claimed(
    uow: UnitOfWork,
    record: BillingPeriodRecord,
    draft: InvoiceDraft,
    *,
    now: datetime,
    site_settings: SiteSettings,
) -> None:
    """The rentals, the invoice (the site's, adopted, or ours) and the PAYG debit; `record`
    gets the invoice, amounts and state to record."""
    write_rentals(uow, draft, now=now)
    invoice = site_invoice(uow.session, deduplication_key=draft.deduplication_key)
    if invoice is not None:
        _adopt(record, invoice, draft)
    elif draft.cents_including_taxes > 0:
        invoice = insert_invoice(uow.session, draft, now=now, settings=site_settings)
        _invoiced_as_drafted(record, invoice, draft)
    else:
        record.state = PeriodState.NOTHING_DUE
    if invoice is not None and draft.pay_as_you_go:
        write_subscription_debit(uow, draft, invoice, now=now)
    record.updated_at = now


def _invoiced_as_drafted(
    record: BillingPeriodRecord, invoice: InvoiceAmounts, draft: InvoiceDraft
) -> None:
    record.invoice_id = invoice.id
    record.total_cents = draft.cents_including_taxes
    record.amount_due_cents = draft.amount_to_charge  # 0 when credits cover it
    record.state = PeriodState.INVOICED


def _adopt(record: BillingPeriodRecord, invoice: InvoiceAmounts, draft: InvoiceDraft) -> None:
    """The site already invoiced this period: keep its invoice and amounts, collect from them."""
    total = invoice.cents_including_taxes
    record.invoice_id = invoice.id
    record.total_cents = total
    closed = closed_on_site(invoice.status)
    if closed is not None:
        record.state = closed
        record.amount_due_cents = 0
    elif draft.payg_balance_before_end is None:
        record.amount_due_cents = max(total, 0)
        record.state = PeriodState.INVOICED if total > 0 else PeriodState.NOTHING_DUE
    else:
        collection = collect_pay_as_you_go(
            total=total,
            balance_before_end=draft.payg_balance_before_end,
            membership_and_taxes=invoice.membership_costs + invoice.cents_taxes,
        )
        record.amount_due_cents = collection.amount_to_charge
        none_due = collection.pay_by is PayBy.NONE
        record.state = PeriodState.NOTHING_DUE if none_due else PeriodState.INVOICED
    logger.info(
        "adopted the site's invoice %s for %s (status %s, total %d; ours would be %d)",
        invoice.id,
        draft.deduplication_key,
        invoice.status,
        total,
        draft.cents_including_taxes,
    )


def _advance_subscription(
    uow: UnitOfWork, draft: InvoiceDraft, subscription: SubscriptionTerms, *, now: datetime
) -> None:
    """Dates to the next period; then cancel at period end, or the scheduled plan change.

    One UPDATE by id: a subscription deleted under us updates nothing, and the workspace's
    invoice stands on its own.
    """
    next_end = draft.period.following().end
    values: dict[str, Any] = {
        "last_billed_at": now,
        "next_billing_date": next_end,
        "current_period_end": next_end,
        "updated_at": now,
    }
    if subscription.cancel_at_period_end:
        values["status"] = "CANCELLED"
    effective = subscription.scheduled_effective_date
    if (
        subscription.scheduled_plan_id is not None
        and effective is not None
        and effective <= draft.period.end
    ):
        values["current_plan_id"] = subscription.scheduled_plan_id
        values["scheduled_plan_id"] = None
        values["scheduled_effective_date"] = None
    update_columns(uow.session, SUBSCRIPTIONS, subscription.id, **values)

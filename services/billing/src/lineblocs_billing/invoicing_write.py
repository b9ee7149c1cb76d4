"""Writing a period's invoice: one transaction, once per workspace and period (rules §1-§4).

`write_invoice` first claims the period (`lbj_billing_periods`, unique per cycle, workspace and
period start: the database decides between concurrent writers), then writes in the caller's
transaction: the number rental debits, the invoice and its five line items (or adopts the one the
site already created with the same deduplication key), the PAYG SUBSCRIPTION debit, and the
subscription's dates, cancellation and scheduled plan change. The caller commits.

The claim, the invoice, its line items and the updates are Core statements built from the
models' columns (the ORM's unit of work cost more CPU than the statements it sent); nothing in
the transaction reads those rows back through the ORM.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, select
from sqlalchemy.exc import DataError
from sqlmodel import Session

from lineblocs_billing.invoice_inputs import SubscriptionTerms
from lineblocs_billing.invoicing import InvoiceDraft
from lineblocs_billing.invoicing_rules import Settle, settle_pay_as_you_go
from lineblocs_billing.records import (
    BillingPeriodRepository,
    closed_on_site,
)
from lineblocs_shared.db.rows import insert_into, insert_row, update_columns
from lineblocs_shared.lineblocs_settings import LineblocsSettings
from lineblocs_shared.models.billing import Debit, Invoice, InvoiceLineItem, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.errors import FatalError, TransientError
from lineblocs_shared.uow import UnitOfWork

logger = logging.getLogger(__name__)

LINE_ITEMS = (
    ("call_costs", "Call costs", False),
    ("recording_costs", "Recording costs", False),
    ("fax_costs", "Fax costs", False),
    ("membership_costs", "Membership costs", True),
    ("number_costs", "Number costs", True),
)
INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]
LINE_ITEMS_TABLE: Table = InvoiceLineItem.__table__  # type: ignore[attr-defined]
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
    lineblocs_settings: LineblocsSettings,
) -> Written:
    """Write `draft` once; a period already written is returned as it is, untouched.

    `subscription` is the subscription as read in this transaction, before `draft` was made.
    """
    now = now.replace(microsecond=0)  # MariaDB keeps whole seconds: SQLite must agree
    records = BillingPeriodRepository(session=uow.session)
    record = BillingPeriodRecord(
        cycle=draft.cycle.value,
        workspace_id=draft.workspace_id,
        subscription_id=draft.subscription_id,
        period_start=draft.period.start,
        period_end=draft.period.end,
        state=PeriodState.INVOICED,
        created_at=now,
        updated_at=now,
    )
    if not records.claim(record=record):
        return Written(record=_winner(records, draft), wrote=False)
    try:
        _write_rentals(uow, draft, now=now)
        invoice = site_invoice(uow.session, deduplication_key=draft.deduplication_key)
        if invoice is not None:
            _adopt(record, invoice, draft)
        elif draft.cents_including_taxes > 0:
            invoice = _insert_invoice(uow, draft, now=now, settings=lineblocs_settings)
            _settle_as_drafted(record, invoice, draft)
        else:
            record.state = PeriodState.NOTHING_DUE
        if invoice is not None and draft.pay_as_you_go:
            _write_subscription_debit(uow, draft, invoice, now=now)
        _advance_subscription(uow, draft, subscription, now=now)
        record.updated_at = now
        records.record_outcome(record=record)
    except DataError as exc:
        raise InvoiceNotWritable(
            f"workspace {draft.workspace_id}, period {draft.period.key_date}: "
            f"the database refused the invoice ({str(exc.orig).splitlines()[0]})"
        ) from exc
    return Written(record=record, wrote=True)


def _winner(records: BillingPeriodRepository, draft: InvoiceDraft) -> BillingPeriodRecord:
    winner = records.get(
        cycle=draft.cycle.value, workspace_id=draft.workspace_id, period_start=draft.period.start
    )
    if winner is None:  # the other writer rolled back between our INSERT and this read
        raise TransientError(f"period {draft.deduplication_key} changed hands: try again")
    return winner


def invoice_due_date(now: datetime, settings: LineblocsSettings) -> datetime:
    if settings.invoice_due_date_enabled:
        return now + timedelta(days=settings.invoice_due_num_days or 0)
    return now


def _write_rentals(uow: UnitOfWork, draft: InvoiceDraft, *, now: datetime) -> None:
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


@dataclass(frozen=True)
class InvoiceAmounts:
    """What writing a period needs of its invoice, ours or the site's."""

    id: int
    status: str
    cents_including_taxes: int
    membership_costs: int
    cents_taxes: int


SITE_INVOICE = (
    select(*(INVOICES.c[f.name] for f in fields(InvoiceAmounts)))
    .where(INVOICES.c.deduplication_key == bindparam("deduplication_key", type_=String))
    .order_by(INVOICES.c.id)
    .limit(1)
)


def site_invoice(session: Session, *, deduplication_key: str) -> InvoiceAmounts | None:
    """The invoice already written with this key (by the site), if any: the oldest."""
    row = session.execute(SITE_INVOICE, {"deduplication_key": deduplication_key}).first()
    return None if row is None else InvoiceAmounts(**row._mapping)


def _insert_invoice(
    uow: UnitOfWork, draft: InvoiceDraft, *, now: datetime, settings: LineblocsSettings
) -> InvoiceAmounts:
    """Insert the invoice and its five line items: two Core INSERTs, the rows built from the
    models so that their defaults are the columns' values, as the ORM would write them."""
    invoice = Invoice(
        created_at=now,
        updated_at=now,
        user_id=draft.creator_id,
        workspace_id=draft.workspace_id,
        cents=draft.cents,
        cents_taxes=draft.cents_taxes,
        cents_including_taxes=draft.cents_including_taxes,
        call_costs=draft.call_costs,
        recording_costs=draft.recording_costs,
        fax_costs=draft.fax_costs,
        membership_costs=draft.membership_costs,
        number_costs=draft.number_costs,
        tax_metadata=json.dumps({"taxes": [tax.as_metadata() for tax in draft.taxes]}),
        status="PENDING",
        source="CREDITS" if draft.pay_as_you_go else "SUBSCRIPTION",
        invoice_type="RECURRING_BILL",
        source_service="JOBS",
        deduplication_key=draft.deduplication_key,
        invoice_no=draft.invoice_no,
        due_date=invoice_due_date(now, settings),
    )
    invoice_id = insert_row(uow.session, invoice, INVOICES)
    uow.session.execute(insert_into(LINE_ITEMS_TABLE), _line_items(draft, invoice_id, now=now))
    return InvoiceAmounts(
        id=invoice_id,
        status=invoice.status,
        cents_including_taxes=invoice.cents_including_taxes,
        membership_costs=invoice.membership_costs,
        cents_taxes=invoice.cents_taxes,
    )


def _line_items(draft: InvoiceDraft, invoice_id: int, *, now: datetime) -> list[dict[str, Any]]:
    """The five line items' rows: every column of `users_invoices_line_items` but the id."""
    return [
        {
            "created_at": now,
            "updated_at": now,
            "invoice_id": invoice_id,
            "key_name": key,
            "name": name,
            "cents": getattr(draft, key),
            "is_recurring": recurring,
        }
        for key, name, recurring in LINE_ITEMS
    ]


def _settle_as_drafted(
    record: BillingPeriodRecord, invoice: InvoiceAmounts, draft: InvoiceDraft
) -> None:
    record.invoice_id = invoice.id
    record.total_cents = draft.cents_including_taxes
    record.amount_due_cents = draft.amount_to_charge  # 0 when credits cover it
    record.state = PeriodState.INVOICED


def _adopt(record: BillingPeriodRecord, invoice: InvoiceAmounts, draft: InvoiceDraft) -> None:
    """The site already invoiced this period: keep its invoice and amounts, settle from them."""
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
        settlement = settle_pay_as_you_go(
            total=total,
            balance_before_end=draft.payg_balance_before_end,
            membership_and_taxes=invoice.membership_costs + invoice.cents_taxes,
        )
        record.amount_due_cents = settlement.amount_to_charge
        none_due = settlement.settle is Settle.NONE
        record.state = PeriodState.NOTHING_DUE if none_due else PeriodState.INVOICED
    logger.info(
        "adopted the site's invoice %s for %s (status %s, total %d; ours would be %d)",
        invoice.id,
        draft.deduplication_key,
        invoice.status,
        total,
        draft.cents_including_taxes,
    )


def _write_subscription_debit(
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

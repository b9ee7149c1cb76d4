"""Recording a paid period (R-CARD-3, docs/billing-rules.md), inside the caller's transaction.

The invoice PAID with its confirmation number, the payment row (card only), the period `paid`,
and one receipt event through the outbox: it leaves only if this transaction commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from lineblocs_billing.invoicing.rules import PayBy
from lineblocs_billing.settling.billee import Billee
from lineblocs_billing.settling.closing import closed_columns
from lineblocs_billing.settling.events import event_id
from lineblocs_shared.clock import Clock
from lineblocs_shared.contracts import PAYMENT_RECEIPT, PaymentReceipt
from lineblocs_shared.db.rows import insert_row, write_columns
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Invoice, InvoicePayment
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.outbox.writer import add_to_outbox

PAYMENTS: Table = InvoicePayment.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Payment:
    """What paid the invoice: a card charge of `charged_cents`, or prepaid credits."""

    pay_by: PayBy
    charged_cents: int
    currency: str
    payment_id: str | None = None  # the gateway's, for a card charge


def confirmation_number() -> str:
    """'INV-' + 8 upper-case hex digits, as the site writes them."""
    return f"INV-{secrets.token_hex(4).upper()}"


def record_paid(
    uow: UnitOfWork,
    *,
    record: BillingPeriodRecord,
    invoice: Invoice,
    billee: Billee,
    payment: Payment,
    now: datetime,
    clock: Clock,
) -> None:
    columns = _paid_columns(invoice, now=now)
    if payment.pay_by is PayBy.CARD:
        columns |= _card_columns(invoice, payment, now=now)
        insert_row(uow.session, _payment_row(billee, payment, now=now), PAYMENTS)
    write_columns(uow.session, invoice, **columns)
    write_columns(uow.session, record, **closed_columns(PeriodState.PAID, now=now))
    add_to_outbox(
        uow.session,
        PAYMENT_RECEIPT,
        _receipt(invoice, billee, payment, now=now),
        event_id=event_id("payment_receipt", record),
        clock=clock,
    )


def _paid_columns(invoice: Invoice, *, now: datetime) -> dict[str, Any]:
    return {
        "status": "PAID",
        "cents_collected": invoice.cents_including_taxes,
        "paid_date": now,
        "complete_date": now,
        "confirmation_number": confirmation_number(),
        "updated_at": now,
    }


def _card_columns(invoice: Invoice, payment: Payment, *, now: datetime) -> dict[str, Any]:
    return {
        "payment_gateway_id": payment.payment_id,
        "num_attempts": invoice.num_attempts + 1,
        "last_attempted": now,
    }


def _payment_row(billee: Billee, payment: Payment, *, now: datetime) -> InvoicePayment:
    return InvoicePayment(
        created_at=now,
        updated_at=now,
        user_id=billee.creator_id,
        workspace_id=billee.workspace_id,
        cents=payment.charged_cents,
        source=PayBy.CARD.source,
        status="PAID",
    )


def _receipt(
    invoice: Invoice, billee: Billee, payment: Payment, *, now: datetime
) -> PaymentReceipt:
    assert invoice.id is not None
    card = payment.pay_by is PayBy.CARD
    return PaymentReceipt(
        workspace_id=billee.workspace_id,
        subscription_id=billee.subscription_id,
        creator_id=billee.creator_id,
        invoice_id=invoice.id,
        amount_cents=payment.charged_cents if card else invoice.cents_including_taxes,
        currency=payment.currency,
        paid_at=now,
        source=payment.pay_by.source,
    )

"""Writing how a period was settled (billing rules §4-§5), inside the caller's transaction.

Paid: the invoice PAID with its confirmation, the payment row (card only), the period `paid`,
one receipt event. Failed (a decline, or no card): the invoice FAILED, the period `failed` with
its next try from the dunning ladder — or `gave_up` and one suspension row — and one
failed-payment event per try. Events go through the outbox, so they leave only if this
transaction commits; their ids are derived from the period (and the try), so a second write of
the same event fails on the outbox's unique key instead of notifying twice.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import col

from lineblocs_billing.dunning import DunningPolicy
from lineblocs_shared.clock import Clock
from lineblocs_shared.contracts import (
    PAYMENT_FAILED,
    PAYMENT_RECEIPT,
    PaymentFailed,
    PaymentReceipt,
)
from lineblocs_shared.db.rows import insert_row, write_columns
from lineblocs_shared.models.billing import Card, Invoice, InvoicePayment, WorkspaceSuspension
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.outbox import add_to_outbox
from lineblocs_shared.uow import UnitOfWork

log = logging.getLogger(__name__)

PAYMENTS: Table = InvoicePayment.__table__  # type: ignore[attr-defined]

# Fixed forever: event ids of receipts and failure notices derive from it.
EVENT_NAMESPACE = uuid.UUID("3b0c6a8e-2f43-5d7e-8a61-94c1d0e7b2f5")
NO_CARD = "no_card"
SUSPENSION_REASON = "unpaid_invoice"


class PaidFrom(StrEnum):
    CARD = "CARD"
    CREDITS = "CREDITS"


@dataclass(frozen=True)
class Billee:
    """Who an invoice is collected from."""

    workspace_id: int
    subscription_id: int
    creator_id: int
    customer_id: str  # users.stripe_id of the creator (Stripe or Braintree customer)


def event_id(kind: str, record: BillingPeriodRecord, *, attempt: int = 0) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{kind}:{record.id}:{attempt}"))


def confirmation_number() -> str:
    """'INV-' + 8 upper-case hex digits, as the site writes them."""
    return f"INV-{secrets.token_hex(4).upper()}"


def mark_paid(
    uow: UnitOfWork,
    *,
    record: BillingPeriodRecord,
    invoice: Invoice,
    billee: Billee,
    paid_from: PaidFrom,
    charged_cents: int,
    currency: str,
    payment_id: str | None,
    now: datetime,
    clock: Clock,
) -> None:
    """The invoice is paid: by a card charge of `charged_cents`, or from prepaid credits."""
    total = invoice.cents_including_taxes
    paid = {
        "status": "PAID",
        "cents_collected": total,
        "paid_date": now,
        "complete_date": now,
        "confirmation_number": confirmation_number(),
        "updated_at": now,
    }
    if paid_from is PaidFrom.CARD:
        paid |= {
            "payment_gateway_id": payment_id,
            "num_attempts": invoice.num_attempts + 1,
            "last_attempted": now,
        }
        payment = InvoicePayment(
            created_at=now,
            updated_at=now,
            user_id=billee.creator_id,
            workspace_id=billee.workspace_id,
            cents=charged_cents,
            source=PaidFrom.CARD.value,
            status="PAID",
        )
        insert_row(uow.session, payment, PAYMENTS)
    write_columns(uow.session, invoice, **paid)
    write_columns(uow.session, record, **_closed(PeriodState.PAID, now=now))
    add_to_outbox(
        uow.session,
        PAYMENT_RECEIPT,
        PaymentReceipt(
            workspace_id=billee.workspace_id,
            subscription_id=billee.subscription_id,
            creator_id=billee.creator_id,
            invoice_id=_id(invoice),
            amount_cents=charged_cents if paid_from is PaidFrom.CARD else total,
            currency=currency,
            paid_at=now,
            source=paid_from.value,
        ),
        event_id=event_id("payment_receipt", record),
        clock=clock,
    )


@dataclass(frozen=True)
class Failure:
    reason: str  # the gateway's decline code, or no_card
    card: Card | None
    amount_cents: int
    currency: str


def mark_failed(
    uow: UnitOfWork,
    *,
    record: BillingPeriodRecord,
    invoice: Invoice,
    billee: Billee,
    failure: Failure,
    policy: DunningPolicy,
    now: datetime,
    clock: Clock,
) -> None:
    """A try failed: FAILED invoice, the ladder's next try or the end of dunning, one notice."""
    tries = record.dunning_attempts + 1
    write_columns(
        uow.session,
        invoice,
        status="FAILED",
        num_attempts=invoice.num_attempts + 1,
        last_attempted=now,
        updated_at=now,
    )
    if policy.gives_up(failures=tries):
        period = _closed(PeriodState.GAVE_UP, now=now)
        suspend_once(uow, invoice=invoice, billee=billee, now=now)
    else:
        next_try = policy.next_try(failures=tries, failed_at=now)
        period = {"state": PeriodState.FAILED, "next_attempt_at": next_try, "updated_at": now}
    write_columns(uow.session, record, dunning_attempts=tries, **period)
    card = failure.card
    add_to_outbox(
        uow.session,
        PAYMENT_FAILED,
        PaymentFailed(
            workspace_id=billee.workspace_id,
            subscription_id=billee.subscription_id,
            creator_id=billee.creator_id,
            invoice_id=_id(invoice),
            reason=failure.reason,
            card_brand=card.issuer if card is not None else None,
            card_last_4=card.last_4 if card is not None else None,
            attempt=tries,
            amount_cents=failure.amount_cents,
            currency=failure.currency,
        ),
        event_id=event_id("payment_failed", record, attempt=tries),
        clock=clock,
    )


def suspend_once(uow: UnitOfWork, *, invoice: Invoice, billee: Billee, now: datetime) -> None:
    """One INITIATED suspension for the unpaid invoice. The caller's `gave_up` transition (same
    transaction, period row locked) is the guard; a row the site wrote for this invoice counts."""
    suspensions = WorkspaceSuspension
    stmt = select(col(suspensions.id)).where(col(suspensions.invoice_id) == invoice.id)
    if uow.session.execute(stmt.limit(1)).first() is not None:
        return
    uow.session.add(
        WorkspaceSuspension(
            workspace_id=billee.workspace_id,
            suspended_at=now,
            reason=SUSPENSION_REASON,
            status="INITIATED",
            invoice_id=invoice.id,
            suspension_initiated_at=now,
        )
    )
    log.warning(
        "workspace %s: invoice %s unpaid after the last dunning try; suspension initiated",
        billee.workspace_id,
        invoice.id,
    )


def mark_closed(
    uow: UnitOfWork, record: BillingPeriodRecord, state: PeriodState, *, now: datetime
) -> None:
    """Nothing left to collect (paid or closed on the site): no charge, no event."""
    write_columns(uow.session, record, **_closed(state, now=now))


def _closed(state: PeriodState, *, now: datetime) -> dict[str, Any]:
    """The columns of a period that is settled for good: no next try."""
    return {"state": state, "next_attempt_at": None, "updated_at": now}


def _id(invoice: Invoice) -> int:
    assert invoice.id is not None
    return invoice.id

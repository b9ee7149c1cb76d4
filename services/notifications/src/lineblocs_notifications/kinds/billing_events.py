"""The mails billing's events ask for: a failed payment, a receipt, a suspension.

The recipient is the workspace's creator, read when the mail is sent (the site's rule). What
makes each mail unique: a failed payment once per attempt (billing's event id is per period and
try), a receipt once per invoice, a suspension notice once per suspension.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, select

from lineblocs_notifications.compose.money import money
from lineblocs_notifications.kinds.catalog import (
    BILLING_FAILED,
    PAYMENT_RECEIPT,
    WORKSPACE_SUSPENDED,
    MailRequest,
)
from lineblocs_shared.contracts import PaymentFailed, PaymentReceipt, WorkspaceSuspended
from lineblocs_shared.models.billing import Invoice

INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]
UNNUMBERED = "0000-00000"  # the column's default: the site gave it no number
# Gateway decline codes as a customer reads them; any other code is shown as it is.
REASONS = {
    "card_declined": "your card was declined",
    "insufficient_funds": "your card has insufficient funds",
    "expired_card": "your card has expired",
    "incorrect_cvc": "the card's security code was refused",
    "authentication_required": "your bank asked for an authentication we cannot do for you",
    "no_card": "there is no card on file for this workspace",
    "processing_error": "the card processor had an error",
}


def failed_payment(event: PaymentFailed, *, event_id: str, message_id: str) -> MailRequest:
    return MailRequest(
        kind=BILLING_FAILED,
        dedupe_key=f"{BILLING_FAILED.name}:{event_id}",
        user_id=None,
        workspace_id=event.workspace_id,
        variables={
            "reason": REASONS.get(event.reason, event.reason.replace("_", " ")),
            "workspace_id": event.workspace_id,
            "subscription_id": event.subscription_id,
            "card_brand": event.card_brand,
            "card_last_4": event.card_last_4,
            "amount": money(event.amount_cents, event.currency),
            "attempt": event.attempt,
        },
        source_message_id=message_id,
    )


def receipt(event: PaymentReceipt, conn: Connection, *, message_id: str) -> MailRequest:
    return MailRequest(
        kind=PAYMENT_RECEIPT,
        dedupe_key=f"{PAYMENT_RECEIPT.name}:invoice:{event.invoice_id}",
        user_id=None,
        workspace_id=event.workspace_id,
        variables={
            "amount": money(event.amount_cents, event.currency),
            "invoice_number": invoice_number(conn, event.invoice_id),
            "paid_with": "prepaid credits" if event.source == "CREDITS" else "card",
            "timestamp": moment(event.paid_at),
        },
        source_message_id=message_id,
    )


def suspension(event: WorkspaceSuspended, conn: Connection, *, message_id: str) -> MailRequest:
    return MailRequest(
        kind=WORKSPACE_SUSPENDED,
        dedupe_key=f"{WORKSPACE_SUSPENDED.name}:{event.suspension_id}",
        user_id=None,
        workspace_id=event.workspace_id,
        variables={
            "invoice_number": invoice_number(conn, event.invoice_id),
            "suspended_at": moment(event.suspended_at),
        },
        source_message_id=message_id,
    )


def invoice_number(conn: Connection, invoice_id: int) -> str:
    """The invoice's number as the site shows it: invoice_no, else its confirmation, else id."""
    stmt = select(INVOICES.c.invoice_no, INVOICES.c.confirmation_number).where(
        INVOICES.c.id == invoice_id
    )
    row = conn.execute(stmt).first()
    if row is None:
        return f"#{invoice_id}"
    numbered = row.invoice_no if row.invoice_no not in ("", UNNUMBERED) else None
    return numbered or row.confirmation_number or f"#{invoice_id}"


def moment(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"

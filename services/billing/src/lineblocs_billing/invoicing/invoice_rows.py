"""The invoice row and its five line items: the site's own, or ours inserted.

Rule R-INVOICE-1 of docs/billing-rules.md.

Core INSERTs built from the models, so that their defaults are the columns' values as the ORM
would write them (the ORM's unit of work cost more CPU than the statements it sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, select
from sqlmodel import Session

from lineblocs_billing.invoicing.draft import InvoiceDraft
from lineblocs_shared.db.rows import insert_into, insert_row
from lineblocs_shared.models.billing import Invoice, InvoiceLineItem
from lineblocs_shared.site_settings.reader import SiteSettings

LINE_ITEMS = (
    ("call_costs", "Call costs", False),
    ("recording_costs", "Recording costs", False),
    ("fax_costs", "Fax costs", False),
    ("membership_costs", "Membership costs", True),
    ("number_costs", "Number costs", True),
)
INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]
LINE_ITEMS_TABLE: Table = InvoiceLineItem.__table__  # type: ignore[attr-defined]


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


def invoice_due_date(now: datetime, settings: SiteSettings) -> datetime:
    if settings.invoice_due_date_enabled:
        return now + timedelta(days=settings.invoice_due_num_days or 0)
    return now


def insert_invoice(
    session: Session, draft: InvoiceDraft, *, now: datetime, settings: SiteSettings
) -> InvoiceAmounts:
    """Insert the invoice and its five line items: two Core INSERTs."""
    invoice = _invoice_row(draft, now=now, due_date=invoice_due_date(now, settings))
    invoice_id = insert_row(session, invoice, INVOICES)
    session.execute(insert_into(LINE_ITEMS_TABLE), _line_items(draft, invoice_id, now=now))
    return InvoiceAmounts(
        id=invoice_id,
        status=invoice.status,
        cents_including_taxes=invoice.cents_including_taxes,
        membership_costs=invoice.membership_costs,
        cents_taxes=invoice.cents_taxes,
    )


def _invoice_row(draft: InvoiceDraft, *, now: datetime, due_date: datetime) -> Invoice:
    return Invoice(
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
        due_date=due_date,
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

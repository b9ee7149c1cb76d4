"""The outbox tests' scenario: a failed payment must be followed by a notice, exactly once.

The business change is an invoice turning `failed`; the message that must follow it is a
`PaymentFailedNotice` sent through the outbox. The consumer's effect is one row in
`test_notices_sent` per notice it acts on, so "exactly one effect" is a row count.
Shared by the tests and by the crash child (`python -m tests.support.outbox_crash`).
"""

from __future__ import annotations

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select
from sqlmodel import Session

from lineblocs_shared.contracts import Contract, Payload
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.jobs import OutboxMessage
from lineblocs_shared.reliability.outbox.inbox import first_delivery
from lineblocs_shared.reliability.outbox.writer import add_to_outbox
from tests.factories import make_billing_chain, whole_seconds

CONSUMER = "test.notify_payment_failed"

effects = MetaData()
NOTICES_SENT = Table(
    "test_notices_sent",
    effects,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_id", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
)


class PaymentFailedNotice(Payload):
    invoice_id: int


def notice_contract(queue: str) -> Contract[PaymentFailedNotice]:
    return Contract(queue=queue, actor="notify_payment_failed", payload=PaymentFailedNotice)


def make_open_invoice(engine: Engine) -> int:
    """A committed, still-open invoice of a fresh tenant; returns its id."""
    with UnitOfWork(engine) as uow:
        chain = make_billing_chain(uow)
        assert chain.workspace.id is not None
        invoice = uow.invoices.add(
            invoice=Invoice(
                created_at=whole_seconds(),
                updated_at=whole_seconds(),
                user_id=chain.user.id,
                workspace_id=chain.workspace.id,
                cents=2499,
                source="CARD",
                status="INCOMPLETE",
                cents_including_taxes=2499,
                cents_taxes=0,
                tax_metadata="{}",
            ),
            line_items=[],
        )
        uow.commit()
    assert invoice.id is not None
    return invoice.id


def fail_payment(
    uow: UnitOfWork, *, invoice_id: int, contract: Contract[PaymentFailedNotice]
) -> OutboxMessage:
    """The business change and its follow-up message, in the caller's transaction."""
    invoice = uow.invoices.get(invoice_id=invoice_id)
    assert invoice is not None
    invoice.status = "failed"
    uow.session.add(invoice)
    return add_to_outbox(uow.session, contract, PaymentFailedNotice(invoice_id=invoice_id))


def invoice_status(engine: Engine, invoice_id: int) -> str:
    with UnitOfWork(engine) as uow:
        invoice = uow.invoices.get(invoice_id=invoice_id)
        assert invoice is not None
        return invoice.status


def send_notice(engine: Engine, *, invoice_id: int, event_id: str) -> bool:
    """The consumer's handler: act once per event id; True when it acted."""
    with Session(engine) as session:
        if not first_delivery(session, consumer=CONSUMER, event_id=event_id):
            return False
        session.execute(insert(NOTICES_SENT).values(invoice_id=invoice_id, event_id=event_id))
        session.commit()
    return True


def notices_sent(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(NOTICES_SENT)).scalar_one()

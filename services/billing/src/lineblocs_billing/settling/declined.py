"""Recording a declined try , inside the caller's transaction.

Rules R-CARD-4, R-DUN-1 and R-DUN-2 of docs/billing-rules.md.

A decline by the gateway, or no card to charge: the invoice FAILED, the period `failed` with
its next try from the dunning ladder — or `gave_up` and one suspension row — and one
failed-payment event per try, through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from lineblocs_billing.settling.billee import Billee
from lineblocs_billing.settling.closing import closed_columns
from lineblocs_billing.settling.dunning import DunningPolicy
from lineblocs_billing.settling.events import event_id
from lineblocs_shared.cards import last_four
from lineblocs_shared.clock import Clock
from lineblocs_shared.contracts import (
    PAYMENT_FAILED,
    WORKSPACE_SUSPENDED,
    PaymentFailed,
    WorkspaceSuspended,
)
from lineblocs_shared.db.rows import write_columns
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Card, Invoice, WorkspaceSuspension
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.reliability.outbox.writer import add_to_outbox

log = logging.getLogger(__name__)

NO_CARD = "no_card"
SUSPENSION_REASON = "unpaid_invoice"


@dataclass(frozen=True)
class Decline:
    reason: str  # the gateway's decline code, or no_card
    card: Card | None
    amount_cents: int
    currency: str


def record_declined(
    uow: UnitOfWork,
    *,
    record: BillingPeriodRecord,
    invoice: Invoice,
    billee: Billee,
    decline: Decline,
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
        suspend_once(uow, record=record, invoice=invoice, billee=billee, now=now, clock=clock)
    period = _next_step(policy, tries, now=now)
    write_columns(uow.session, record, dunning_attempts=tries, **period)
    add_to_outbox(
        uow.session,
        PAYMENT_FAILED,
        _notice(invoice, billee, decline, tries),
        event_id=event_id("payment_failed", record, attempt=tries),
        clock=clock,
    )


def _next_step(policy: DunningPolicy, tries: int, *, now: datetime) -> dict[str, Any]:
    """The period's columns after `tries` failed tries: given up, or failed until its next try."""
    if policy.gives_up(failures=tries):
        return closed_columns(PeriodState.GAVE_UP, now=now)
    next_try = policy.next_try(failures=tries, failed_at=now)
    return {"state": PeriodState.FAILED, "next_attempt_at": next_try, "updated_at": now}


def _notice(invoice: Invoice, billee: Billee, decline: Decline, tries: int) -> PaymentFailed:
    assert invoice.id is not None
    card = decline.card
    return PaymentFailed(
        workspace_id=billee.workspace_id,
        subscription_id=billee.subscription_id,
        creator_id=billee.creator_id,
        invoice_id=invoice.id,
        reason=decline.reason,
        card_brand=card.issuer if card is not None else None,
        card_last_4=last_four(card.last_4) if card is not None else None,
        attempt=tries,
        amount_cents=decline.amount_cents,
        currency=decline.currency,
    )


def suspend_once(
    uow: UnitOfWork,
    *,
    record: BillingPeriodRecord,
    invoice: Invoice,
    billee: Billee,
    now: datetime,
    clock: Clock,
) -> None:
    """One INITIATED suspension for the unpaid invoice, and one `workspace_suspended` event.
    The caller's `gave_up` transition (same transaction, period row locked) is the guard; a row
    the site wrote for this invoice counts (and the site told its customer itself)."""
    suspensions = WorkspaceSuspension
    stmt = select(col(suspensions.id)).where(col(suspensions.invoice_id) == invoice.id)
    if uow.session.execute(stmt.limit(1)).first() is not None:
        return
    suspension_id = _initiate_suspension(uow, invoice, billee.workspace_id, now)
    assert invoice.id is not None
    add_to_outbox(
        uow.session,
        WORKSPACE_SUSPENDED,
        WorkspaceSuspended(
            workspace_id=billee.workspace_id,
            creator_id=billee.creator_id,
            invoice_id=invoice.id,
            suspension_id=suspension_id,
            suspended_at=now,
        ),
        event_id=event_id("workspace_suspended", record),
        clock=clock,
    )
    log.warning(
        "workspace %s: invoice %s unpaid after the last dunning try; suspension initiated",
        billee.workspace_id,
        invoice.id,
    )


def _initiate_suspension(
    uow: UnitOfWork, invoice: Invoice, workspace_id: int, now: datetime
) -> int:
    """The new suspension row's id."""
    suspension = WorkspaceSuspension(
        workspace_id=workspace_id,
        suspended_at=now,
        reason=SUSPENSION_REASON,
        status="INITIATED",
        invoice_id=invoice.id,
        suspension_initiated_at=now,
    )
    uow.session.add(suspension)
    uow.session.flush()  # its id, for the event
    assert suspension.id is not None
    return suspension.id

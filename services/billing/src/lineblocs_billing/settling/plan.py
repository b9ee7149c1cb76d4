"""The charge a settling run drives at the gateway: a new attempt, or one resumed.

A new attempt is committed **before** the gateway is called, with its deterministic key
(`attempts.attempt_key`); a resumed one re-sends the request its first delivery sent, built from
the attempt row alone (Stripe refuses a key reused with other parameters).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from lineblocs_billing.settling.attempts import AttemptRepository, attempt_key
from lineblocs_billing.settling.billee import Billee, chargeable, payment_method_of
from lineblocs_shared.db.rows import write_columns
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Card
from lineblocs_shared.models.billing_runs import AttemptState, BillingPeriodRecord, PaymentAttempt
from lineblocs_shared.payments import ChargeRequest, PaymentGateway
from lineblocs_shared.reliability.failures.taxonomy import FatalError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChargePlan:
    """What deciding committed: the attempt to drive at the gateway."""

    period_id: int
    attempt_id: int
    attempt_no: int
    request: ChargeRequest
    stored_payment_id: str | None
    resumed: bool
    gateway: PaymentGateway
    billee: Billee  # read under the period's lock; settling ends before it could change


def new_attempt(
    uow: UnitOfWork,
    record: BillingPeriodRecord,
    billee: Billee,
    card: Card,
    gateway: PaymentGateway,
    *,
    number: int,
    now: datetime,
    resettle_after: timedelta,
) -> ChargePlan:
    """Attempt `number` of the period, written in the caller's transaction."""
    assert record.id is not None
    assert record.invoice_id is not None  # a settleable period has its invoice
    attempt = AttemptRepository(session=uow.session).add(
        attempt=PaymentAttempt(
            billing_period_id=record.id,
            invoice_id=record.invoice_id,
            workspace_id=record.workspace_id,
            attempt_no=number,
            attempt_key=attempt_key(record.workspace_id, record.period_start, number),
            gateway=gateway.name,
            amount_cents=record.amount_due_cents,
            currency=gateway.currency,
            customer_id=billee.customer_id,
            payment_method_id=payment_method_of(card),
            state=AttemptState.PENDING,
            created_at=now,
            updated_at=now,
        )
    )
    # If this delivery dies with the attempt unresolved, the sweep brings the period back then.
    write_columns(uow.session, record, next_attempt_at=now + resettle_after, updated_at=now)
    return _plan(record.id, attempt, billee, gateway, resumed=False)


def resumed_attempt(
    uow: UnitOfWork, billee: Billee, attempt: PaymentAttempt, gateway: PaymentGateway
) -> ChargePlan:
    """The unresolved `attempt`, to be asked at its gateway before anything is sent again."""
    if attempt.gateway != gateway.name:
        raise FatalError(
            f"payment attempt {attempt.attempt_key} was made on {attempt.gateway} but the "
            f"gateway is now {gateway.name}: resolve it on {attempt.gateway} by hand"
        )
    if attempt.customer_id is None or attempt.payment_method_id is None:
        _pin_current_card(uow, billee, attempt)
    log.info("resuming payment attempt %s (%s)", attempt.attempt_key, attempt.state)
    return _plan(attempt.billing_period_id, attempt, billee, gateway, resumed=True)


def _pin_current_card(uow: UnitOfWork, billee: Billee, attempt: PaymentAttempt) -> None:
    """An attempt made before migration 0004 pinned nothing: resume it with today's card."""
    card = uow.cards.default_for_workspace(workspace_id=billee.workspace_id)
    if not chargeable(card, billee):
        raise FatalError(
            f"payment attempt {attempt.attempt_key} is unresolved and workspace "
            f"{billee.workspace_id} no longer has a chargeable card: resolve it by hand"
        )
    assert card is not None
    attempt.customer_id, attempt.payment_method_id = billee.customer_id, payment_method_of(card)
    uow.session.add(attempt)


def _plan(
    period_id: int,
    attempt: PaymentAttempt,
    billee: Billee,
    gateway: PaymentGateway,
    *,
    resumed: bool,
) -> ChargePlan:
    assert attempt.id is not None
    assert attempt.customer_id is not None  # pinned: `new_attempt` or `_pin_current_card`
    assert attempt.payment_method_id is not None
    request = ChargeRequest(
        attempt_key=attempt.attempt_key,
        amount_cents=attempt.amount_cents,
        currency=attempt.currency,
        customer_id=attempt.customer_id,
        payment_method_id=attempt.payment_method_id,
        workspace_id=attempt.workspace_id,
        invoice_id=attempt.invoice_id,
        description=f"Lineblocs invoice {attempt.invoice_id}",
    )
    return ChargePlan(
        period_id=period_id,
        attempt_id=attempt.id,
        attempt_no=attempt.attempt_no,
        request=request,
        stored_payment_id=attempt.gateway_payment_id,
        resumed=resumed,
        gateway=gateway,
        billee=billee,
    )

"""Step 1 of settling a period: decide under the period's lock, and commit the attempt.

Nothing is left to collect (paid, closed on the site, given up) → an outcome, nothing written.
An attempt still in flight → resume it. A failed period whose next dunning try is not due → wait.
Otherwise: pay-as-you-go covered by credits → paid now; no chargeable card → failed now (no
gateway call); else attempt n+1 is committed **before** the gateway is called, with its
deterministic key (`attempts.attempt_key`). See `charging.py` for the steps after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lineblocs_billing.attempts import UNRESOLVED, AttemptRepository, attempt_key
from lineblocs_billing.composition import Billing
from lineblocs_billing.dunning import DunningPolicy
from lineblocs_billing.records import closed_on_site
from lineblocs_billing.settlement import (
    NO_CARD,
    Billee,
    Failure,
    PaidFrom,
    mark_closed,
    mark_failed,
    mark_paid,
)
from lineblocs_shared.db.rows import write_columns
from lineblocs_shared.lineblocs_settings import LineblocsSettings
from lineblocs_shared.models.billing import Card, Invoice
from lineblocs_shared.models.billing_runs import (
    AttemptState,
    BillingPeriodRecord,
    PaymentAttempt,
    PeriodState,
)
from lineblocs_shared.payments import ChargeRequest, PaymentGateway
from lineblocs_shared.reliability.errors import FatalError
from lineblocs_shared.uow import UnitOfWork

log = logging.getLogger(__name__)

SETTLEABLE = (PeriodState.INVOICED, PeriodState.FAILED)


class Settled(StrEnum):
    PAID = "paid"  # charged now (or found charged at the gateway)
    PAID_FROM_CREDITS = "paid_from_credits"  # pay-as-you-go: nothing charged
    DECLINED = "declined"
    NO_CARD = "no_card"
    NOT_DUE = "not_due"  # failed, and its next dunning try is later
    NOTHING_TO_DO = "nothing_to_do"  # paid, nothing due, given up, or closed on the site


@dataclass(frozen=True)
class ChargePlan:
    """What step 1 committed: the attempt to drive at the gateway."""

    period_id: int
    attempt_id: int
    attempt_no: int
    request: ChargeRequest
    stored_payment_id: str | None
    resumed: bool
    gateway: PaymentGateway
    billee: Billee  # read under the period's lock; settling ends before it could change


def prepare(deps: Billing, period_id: int) -> ChargePlan | Settled:
    now = whole_seconds_now(deps)
    lineblocs = deps.lineblocs()  # before the transaction: see SettingsCache
    with UnitOfWork(deps.engine) as uow:
        attempts = AttemptRepository(session=uow.session)
        locked = attempts.lock_period(period_id=period_id)
        if locked is None:
            raise FatalError(f"billing period {period_id} does not exist")
        record, invoice = locked.record, locked.invoice
        if record.state not in SETTLEABLE:
            return Settled.NOTHING_TO_DO
        closed = _closed_elsewhere(uow, record, invoice, now=now)
        if closed is not None:
            uow.commit()
            return closed
        assert invoice is not None
        billee = billee_of(uow, record)
        earlier = attempts.of_period(period_id=period_id)
        in_flight = next((a for a in earlier if a.state in UNRESOLVED), None)
        if in_flight is not None:
            plan = _resume(deps, uow, billee, in_flight, lineblocs)
            uow.commit()  # an attempt older than its pinned card gets it now
            return plan
        if record.state == PeriodState.FAILED and not _due(record, now):
            return Settled.NOT_DUE
        if record.amount_due_cents <= 0:  # pay-as-you-go, covered by credits
            mark_paid(
                uow,
                record=record,
                invoice=invoice,
                billee=billee,
                paid_from=PaidFrom.CREDITS,
                charged_cents=0,
                currency=lineblocs.default_currency,
                payment_id=None,
                now=now,
                clock=deps.clock,
            )
            uow.commit()
            return Settled.PAID_FROM_CREDITS
        card = uow.cards.default_for_workspace(workspace_id=billee.workspace_id)
        if not _chargeable(card, billee):
            failure = Failure(NO_CARD, card, record.amount_due_cents, lineblocs.default_currency)
            mark_failed(
                uow,
                record=record,
                invoice=invoice,
                billee=billee,
                failure=failure,
                policy=policy_of(lineblocs),
                now=now,
                clock=deps.clock,
            )
            uow.commit()
            return Settled.NO_CARD
        assert card is not None
        gateway = deps.gateway_provider.for_run(lineblocs)  # misconfigured: fatal, nothing written
        number = max((a.attempt_no for a in earlier), default=0) + 1
        plan = _new_attempt(deps, uow, record, billee, card, gateway, number=number, now=now)
        uow.commit()
        return plan


def _closed_elsewhere(
    uow: UnitOfWork, record: BillingPeriodRecord, invoice: Invoice | None, *, now: datetime
) -> Settled | None:
    """The invoice was paid, cancelled or deleted on the site: nothing to collect any more."""
    if invoice is None:
        log.warning("billing period %s: its invoice %s is gone", record.id, record.invoice_id)
        mark_closed(uow, record, PeriodState.NOTHING_DUE, now=now)
        return Settled.NOTHING_TO_DO
    state = closed_on_site(invoice.status)
    if state is None:
        return None
    log.info(
        "billing period %s: invoice %s is %s on the site", record.id, invoice.id, invoice.status
    )
    mark_closed(uow, record, state, now=now)
    return Settled.NOTHING_TO_DO


def _due(record: BillingPeriodRecord, now: datetime) -> bool:
    return record.next_attempt_at is not None and record.next_attempt_at <= now


def billee_of(uow: UnitOfWork, record: BillingPeriodRecord) -> Billee:
    payer = uow.workspaces.payer(workspace_id=record.workspace_id)
    if payer is None:  # deleting a workspace deletes its invoices: we never get here
        raise FatalError(f"workspace {record.workspace_id} of period {record.id} does not exist")
    return Billee(
        workspace_id=record.workspace_id,
        subscription_id=record.subscription_id,
        creator_id=payer.creator_id,
        customer_id=payer.customer_id,
    )


def _chargeable(card: Card | None, billee: Billee) -> bool:
    """A card the gateway can charge: a payment method of a known customer."""
    return bool(card and _payment_method_of(card) and billee.customer_id)


def _payment_method_of(card: Card) -> str:
    return (card.stripe_payment_method_id or "").strip()


def policy_of(lineblocs: LineblocsSettings) -> DunningPolicy:
    return DunningPolicy.of(
        retry_enabled=lineblocs.billing_retry_enabled, num_retries=lineblocs.billing_num_retries
    )


def _new_attempt(
    deps: Billing,
    uow: UnitOfWork,
    record: BillingPeriodRecord,
    billee: Billee,
    card: Card,
    gateway: PaymentGateway,
    *,
    number: int,
    now: datetime,
) -> ChargePlan:
    assert record.id is not None
    assert record.invoice_id is not None  # a settleable period has its invoice
    attempts = AttemptRepository(session=uow.session)
    attempt = attempts.add(
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
            payment_method_id=_payment_method_of(card),
            state=AttemptState.PENDING,
            created_at=now,
            updated_at=now,
        )
    )
    # If this delivery dies with the attempt unresolved, the sweep brings the period back then.
    resettle_at = now + timedelta(minutes=deps.options.billing_resettle_after_min)
    write_columns(uow.session, record, next_attempt_at=resettle_at, updated_at=now)
    return _plan(record.id, attempt, billee, gateway, resumed=False)


def _resume(
    deps: Billing,
    uow: UnitOfWork,
    billee: Billee,
    attempt: PaymentAttempt,
    lineblocs: LineblocsSettings,
) -> ChargePlan:
    gateway = deps.gateway_provider.for_run(lineblocs)
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
    if not _chargeable(card, billee):
        raise FatalError(
            f"payment attempt {attempt.attempt_key} is unresolved and workspace "
            f"{billee.workspace_id} no longer has a chargeable card: resolve it by hand"
        )
    assert card is not None
    attempt.customer_id, attempt.payment_method_id = billee.customer_id, _payment_method_of(card)
    uow.session.add(attempt)


def _plan(
    period_id: int,
    attempt: PaymentAttempt,
    billee: Billee,
    gateway: PaymentGateway,
    *,
    resumed: bool,
) -> ChargePlan:
    """The gateway request of `attempt`: built from the attempt row alone, so a resumed attempt
    sends what its first delivery sent (Stripe refuses a key reused with other parameters)."""
    assert attempt.id is not None
    assert attempt.customer_id is not None  # pinned: `_new_attempt` or `_pin_current_card`
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


def whole_seconds_now(deps: Billing) -> datetime:
    """Whole seconds: MariaDB keeps no fractions, and SQLite must agree."""
    return deps.clock.now().replace(microsecond=0)

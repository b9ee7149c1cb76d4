"""Step 3 of settling a period: record what the gateway said, in a new transaction.

Succeeded → paid (`paid.py`); declined → the dunning ladder's next try (`declined.py`); still
processing → the attempt stays unresolved and the message is retried (`PaymentProcessing`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.invoicing.period_records import PAID_STATUSES
from lineblocs_billing.invoicing.rules import PayBy
from lineblocs_billing.settling.attempts import ATTEMPTS, AttemptRepository, LockedPeriod
from lineblocs_billing.settling.declined import Decline, record_declined
from lineblocs_billing.settling.dunning import DunningPolicy
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_billing.settling.paid import Payment, record_paid
from lineblocs_billing.settling.plan import ChargePlan
from lineblocs_shared.db.rows import update_columns
from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.billing_runs import AttemptState
from lineblocs_shared.payments import GatewayPayment, PaymentStatus
from lineblocs_shared.reliability.failures.taxonomy import TransientError

log = logging.getLogger(__name__)

UNDECIDED = (PaymentStatus.PROCESSING, PaymentStatus.CREATED)


class PaymentProcessing(TransientError):
    """The gateway has not decided yet; the attempt stays unresolved and is asked again."""


def record_payment(deps: Billing, plan: ChargePlan, payment: GatewayPayment) -> SettlingOutcome:
    now = whole_seconds(deps.clock.now())
    policy = DunningPolicy.of_site(deps.site_settings())  # before the transaction
    with UnitOfWork(deps.engine) as uow:
        locked = AttemptRepository(session=uow.session).lock_period(period_id=plan.period_id)
        assert locked is not None
        if payment.status in UNDECIDED:
            _update_attempt(uow, plan, payment, now, state=AttemptState.CREATED)
            uow.commit()
            raise PaymentProcessing(
                f"payment {payment.payment_id} of {plan.request.attempt_key} is still "
                f"{payment.gateway_status} at {plan.gateway.name}"
            )
        if payment.succeeded:
            outcome = _paid(deps, uow, plan, payment, locked, now=now)
        else:
            outcome = _declined(deps, uow, plan, payment, locked, policy, now=now)
        uow.commit()
    log.info("payment attempt %s: %s", plan.request.attempt_key, outcome)
    return outcome


def _paid(
    deps: Billing,
    uow: UnitOfWork,
    plan: ChargePlan,
    payment: GatewayPayment,
    locked: LockedPeriod,
    *,
    now: datetime,
) -> SettlingOutcome:
    invoice = _invoice_of(locked)
    _update_attempt(uow, plan, payment, now, state=AttemptState.SUCCEEDED)
    _warn_if_paid_meanwhile(invoice, plan)
    request = plan.request
    record_paid(
        uow,
        record=locked.record,
        invoice=invoice,
        billee=plan.billee,
        payment=Payment(PayBy.CARD, request.amount_cents, request.currency, payment.payment_id),
        now=now,
        clock=deps.clock,
    )
    return SettlingOutcome.PAID


def _declined(
    deps: Billing,
    uow: UnitOfWork,
    plan: ChargePlan,
    payment: GatewayPayment,
    locked: LockedPeriod,
    policy: DunningPolicy,
    *,
    now: datetime,
) -> SettlingOutcome:
    code = (payment.decline_code or "declined")[:64]
    _update_attempt(
        uow,
        plan,
        payment,
        now,
        state=AttemptState.DECLINED,
        decline_code=code,
        error=payment.decline_message,
    )
    card = uow.cards.default_for_workspace(workspace_id=locked.record.workspace_id)
    record_declined(
        uow,
        record=locked.record,
        invoice=_invoice_of(locked),
        billee=plan.billee,
        decline=Decline(code, card, plan.request.amount_cents, plan.request.currency),
        policy=policy,
        now=now,
        clock=deps.clock,
    )
    return SettlingOutcome.DECLINED


def _invoice_of(locked: LockedPeriod) -> Invoice:
    assert locked.invoice is not None  # the period's; the attempt was made for it
    return locked.invoice


def _update_attempt(
    uow: UnitOfWork,
    plan: ChargePlan,
    payment: GatewayPayment,
    now: datetime,
    *,
    state: AttemptState,
    **values: Any,
) -> None:
    """One UPDATE, no read: under the period's lock the attempt is ours, and the plan holds
    everything settling needs of it."""
    changes: dict[str, Any] = {
        "state": state.value,
        "gateway_payment_id": payment.payment_id,
        "updated_at": now,
    }
    if state in (AttemptState.SUCCEEDED, AttemptState.DECLINED):
        changes |= {"resolved_at": now, "error": None}
    update_columns(uow.session, ATTEMPTS, plan.attempt_id, **(changes | values))


def _warn_if_paid_meanwhile(invoice: Invoice, plan: ChargePlan) -> None:
    if invoice.status.upper() in PAID_STATUSES:
        log.error(
            "invoice %s was paid on the site while attempt %s was charging: refund one by hand",
            invoice.id,
            plan.request.attempt_key,
        )

"""Settling one billing period exactly once (design notes, "exactly-once charging").

    settle_period(deps, period_id=...)

1. Hold the period (`locks.py`: one settler at a time), lock its row, decide, and commit the
   attempt before the gateway is called (`charge_plan.prepare`).
2. Call the gateway outside any transaction (`charge_attempt`): create, commit the payment id on
   the attempt (`created`), confirm. A resumed attempt first asks the gateway where it stands.
3. Record the outcome in a new transaction (`settlement.py`): paid, or failed with the next
   dunning try; events through the outbox.
A kill at any point leaves an attempt `pending`/`created`; the next delivery resumes it, so a
period is charged successfully at most once whatever is redelivered.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from lineblocs_billing.attempts import ATTEMPTS, AttemptRepository, update_attempt
from lineblocs_billing.charge_plan import (
    ChargePlan,
    Settled,
    policy_of,
    prepare,
    whole_seconds_now,
)
from lineblocs_billing.composition import Billing
from lineblocs_billing.records import PAID_STATUSES
from lineblocs_billing.settlement import Failure, PaidFrom, mark_failed, mark_paid
from lineblocs_shared.db.rows import update_columns
from lineblocs_shared.models.billing import Invoice
from lineblocs_shared.models.billing_runs import AttemptState
from lineblocs_shared.payments import GatewayPayment, PaymentStatus, charge_attempt
from lineblocs_shared.reliability.errors import TransientError
from lineblocs_shared.uow import UnitOfWork

__all__ = ["PaymentProcessing", "PeriodBusy", "Settled", "settle_period"]

log = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 2000


class PeriodBusy(TransientError):
    """Another delivery is settling this period right now: try again later."""


class PaymentProcessing(TransientError):
    """The gateway has not decided yet; the attempt stays unresolved and is asked again."""


def settle_period(deps: Billing, *, period_id: int) -> Settled:
    with deps.period_locks.hold(period_id) as mine:
        if not mine:
            raise PeriodBusy(f"billing period {period_id} is being settled by another delivery")
        step = prepare(deps, period_id)
        if isinstance(step, Settled):
            return step
        payment = _drive(deps, step)
        return _record_outcome(deps, step, payment)


# --- 2. the gateway, outside any transaction ----------------------------------------------


def _drive(deps: Billing, plan: ChargePlan) -> GatewayPayment:
    def record_created(payment: GatewayPayment) -> None:
        # Committed before the payment is confirmed: a redelivery then finds it by its id.
        update_attempt(
            deps.engine,
            plan.attempt_id,
            gateway_payment_id=payment.payment_id,
            state=AttemptState.CREATED.value,
            updated_at=whole_seconds_now(deps),
        )

    try:
        return charge_attempt(
            plan.gateway,
            plan.request,
            stored_payment_id=plan.stored_payment_id,
            resumed=plan.resumed,
            record_created=record_created,
        )
    except Exception as exc:
        _note_error(deps, plan, exc)
        raise


def _note_error(deps: Billing, plan: ChargePlan, exc: Exception) -> None:
    """Best effort: the attempt says why it is stuck (the message's retry or dead letter
    carries the error anyway)."""
    try:
        update_attempt(
            deps.engine,
            plan.attempt_id,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT],
            updated_at=whole_seconds_now(deps),
        )
    except Exception:
        log.exception("could not note the error of payment attempt %s", plan.request.attempt_key)


# --- 3. record the outcome -----------------------------------------------------------------


def _record_outcome(deps: Billing, plan: ChargePlan, payment: GatewayPayment) -> Settled:
    now = whole_seconds_now(deps)
    policy = policy_of(deps.lineblocs())  # before the transaction: see SettingsCache
    with UnitOfWork(deps.engine) as uow:
        locked = AttemptRepository(session=uow.session).lock_period(period_id=plan.period_id)
        assert locked is not None
        record, invoice = locked.record, locked.invoice
        if payment.status in (PaymentStatus.PROCESSING, PaymentStatus.CREATED):
            _update_attempt(uow, plan, payment, now, state=AttemptState.CREATED)
            uow.commit()
            raise PaymentProcessing(
                f"payment {payment.payment_id} of {plan.request.attempt_key} is still "
                f"{payment.gateway_status} at {plan.gateway.name}"
            )
        assert invoice is not None  # the period's; the attempt was made for it
        if payment.succeeded:
            _update_attempt(uow, plan, payment, now, state=AttemptState.SUCCEEDED)
            _warn_if_paid_meanwhile(invoice, plan)
            mark_paid(
                uow,
                record=record,
                invoice=invoice,
                billee=plan.billee,
                paid_from=PaidFrom.CARD,
                charged_cents=plan.request.amount_cents,
                currency=plan.request.currency,
                payment_id=payment.payment_id,
                now=now,
                clock=deps.clock,
            )
            result = Settled.PAID
        else:
            decline_code = (payment.decline_code or "declined")[:64]
            _update_attempt(
                uow,
                plan,
                payment,
                now,
                state=AttemptState.DECLINED,
                decline_code=decline_code,
                error=payment.decline_message,
            )
            card = uow.cards.default_for_workspace(workspace_id=record.workspace_id)
            request = plan.request
            failure = Failure(decline_code, card, request.amount_cents, request.currency)
            mark_failed(
                uow,
                record=record,
                invoice=invoice,
                billee=plan.billee,
                failure=failure,
                policy=policy,
                now=now,
                clock=deps.clock,
            )
            result = Settled.DECLINED
        uow.commit()
    log.info("payment attempt %s: %s", plan.request.attempt_key, result)
    return result


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

"""Step 2 of settling a period: the attempt at the gateway, outside any transaction.

A fresh attempt is created, its payment id committed on the attempt (`created`), then confirmed;
a resumed one is first asked where it stands (`lineblocs_shared.payments.charge_attempt`).
"""

from __future__ import annotations

import logging

from lineblocs_billing.bootstrap import Billing
from lineblocs_billing.settling.attempts import update_attempt
from lineblocs_billing.settling.plan import ChargePlan
from lineblocs_shared.db.types import whole_seconds
from lineblocs_shared.models.billing_runs import AttemptState
from lineblocs_shared.payments import GatewayPayment, charge_attempt

log = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 2000


def charge(deps: Billing, plan: ChargePlan) -> GatewayPayment:
    def record_created(payment: GatewayPayment) -> None:
        # Committed before the payment is confirmed: a redelivery then finds it by its id.
        update_attempt(
            deps.engine,
            plan.attempt_id,
            gateway_payment_id=payment.payment_id,
            state=AttemptState.CREATED.value,
            updated_at=whole_seconds(deps.clock.now()),
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
            updated_at=whole_seconds(deps.clock.now()),
        )
    except Exception:
        log.exception("could not note the error of payment attempt %s", plan.request.attempt_key)

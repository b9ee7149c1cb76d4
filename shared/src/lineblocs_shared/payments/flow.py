"""One payment attempt, gateway side: find or create, record the id, confirm.

The database side stays with the caller: `record_created` must durably store the payment id on
the attempt row (commit) before it returns, because what comes next takes the money.
"""

from __future__ import annotations

from collections.abc import Callable

from lineblocs_shared.payments.errors import GatewayRequestRejected
from lineblocs_shared.payments.protocol import PaymentGateway
from lineblocs_shared.payments.types import ChargeRequest, GatewayPayment, PaymentStatus


def charge_attempt(
    gateway: PaymentGateway,
    req: ChargeRequest,
    *,
    stored_payment_id: str | None,
    resumed: bool,
    record_created: Callable[[GatewayPayment], None],
) -> GatewayPayment:
    """Drive one attempt to SUCCEEDED, DECLINED or PROCESSING (or raise a gateway error).

    `stored_payment_id`: the id already on the attempt row, if any. `resumed`: the attempt row
    existed before this delivery (a redelivery or a retry), so an earlier delivery may have
    created the payment without recording its id: look for it before creating one.
    """
    found: GatewayPayment | None = None
    if stored_payment_id is not None or resumed:
        # A redelivery: ask where the payment stands before touching it. (Re-confirming a
        # declined Stripe intent would try the card again once the key window has passed.)
        found = gateway.find_payment(
            req.attempt_key, customer_id=req.customer_id, payment_id=stored_payment_id
        )
    payment = _checked(req, found or gateway.create_payment(req))
    if payment.status is not PaymentStatus.CREATED:
        return payment  # decided already: declined at authorization, or found finished
    if payment.payment_id != stored_payment_id:
        record_created(payment)
    return _checked(req, gateway.confirm_payment(payment.payment_id, attempt_key=req.attempt_key))


def _checked(req: ChargeRequest, payment: GatewayPayment) -> GatewayPayment:
    """A payment found under this attempt's key must be this attempt's amount and currency."""
    if payment.amount_cents != req.amount_cents or payment.currency != req.currency.upper():
        raise GatewayRequestRejected(
            f"payment {payment.payment_id} of attempt {req.attempt_key} is "
            f"{payment.amount_cents} {payment.currency}, the attempt is "
            f"{req.amount_cents} {req.currency.upper()}: refusing to go on"
        )
    return payment

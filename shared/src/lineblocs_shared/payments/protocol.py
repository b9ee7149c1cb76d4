"""The payment-gateway port: what billing needs from Stripe, Braintree or the fake.

The calls split a charge in two so that "at most one successful charge per attempt" holds even
against a gateway that ignores idempotency keys (R-ONCE-1, R-ONCE-2 in docs/billing-rules.md):

    payment = gateway.create_payment(req)        # nothing is taken yet
    <commit payment.payment_id on the attempt row>
    payment = gateway.confirm_payment(payment.payment_id, attempt_key=req.attempt_key)

A redelivered attempt asks `find_payment` first — by the stored id, or by the attempt key when
the worker died between the call and the commit — then confirms only what is still CREATED and
creates only when nothing is found. `charge_attempt` in `flow.py` does exactly this.
"""

from __future__ import annotations

from typing import Protocol

from lineblocs_shared.payments.types import ChargeRequest, GatewayPayment


class PaymentGateway(Protocol):
    @property
    def name(self) -> str:
        """'stripe', 'braintree' or 'fake': what `lbj_payment_attempts.gateway` records."""
        ...

    @property
    def currency(self) -> str:
        """The currency new attempts are made in (Lineblocs' default_currency, upper case)."""
        ...

    def create_payment(self, req: ChargeRequest) -> GatewayPayment:
        """Create the payment without taking money: CREATED, or DECLINED when the gateway
        decides at once (Braintree declines at authorization). Repeating it with the same
        attempt key within 24 h returns the same payment on Stripe; elsewhere, find first."""
        ...

    def confirm_payment(self, payment_id: str, *, attempt_key: str) -> GatewayPayment:
        """Take the money of a CREATED payment: SUCCEEDED, DECLINED or PROCESSING. Safe to
        repeat: a payment already confirmed, declined or cancelled is returned as it stands."""
        ...

    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        """The attempt's payment at the gateway, or None when it was never created: by its id
        when one was stored, else by the attempt key (Stripe: the customer's intents whose
        metadata carry it; Braintree: its order_id). Reads only, changes nothing."""
        ...

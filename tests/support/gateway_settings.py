"""The part of LineblocsSettings a payment gateway is built from, as plain values for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from lineblocs_shared.lineblocs_settings import (
    BraintreeCredentials,
    BraintreeEnvironment,
    PaymentGateway,
    StripeMode,
)

BRAINTREE = BraintreeCredentials(
    merchant_id="m1", public_key="pub", private_key="priv", environment=BraintreeEnvironment.SANDBOX
)


@dataclass
class GatewaySettingsValues:
    """Satisfies `lineblocs_shared.payments.GatewaySettings`."""

    payment_gateway: PaymentGateway = PaymentGateway.STRIPE
    stripe_mode: StripeMode = StripeMode.TEST
    stripe_secret_key: str = "sk_test_abc"
    braintree: BraintreeCredentials = field(default_factory=lambda: BRAINTREE)
    default_currency: str = "CAD"

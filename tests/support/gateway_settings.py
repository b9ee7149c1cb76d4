"""The part of SiteSettings a payment gateway is built from, as plain values for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from lineblocs_shared.site_settings.values import (
    BraintreeCredentials,
    BraintreeEnvironment,
    GatewayChoice,
    StripeMode,
)

BRAINTREE = BraintreeCredentials(
    merchant_id="m1", public_key="pub", private_key="priv", environment=BraintreeEnvironment.SANDBOX
)


@dataclass
class GatewaySettingsValues:
    """Satisfies `lineblocs_shared.payments.GatewaySettings`."""

    payment_gateway: GatewayChoice = GatewayChoice.STRIPE
    stripe_mode: StripeMode = StripeMode.TEST
    stripe_secret_key: str = "sk_test_abc"
    braintree: BraintreeCredentials = field(default_factory=lambda: BRAINTREE)
    default_currency: str = "CAD"

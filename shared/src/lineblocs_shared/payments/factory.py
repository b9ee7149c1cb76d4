"""Choose and build the payment gateway: Lineblocs' `payment_gateway`, unless overridden.

Call it once per job run with that run's `SiteSettings`, so an admin's change of gateway or
keys is seen by the next run. Anything missing or garbled is a `ConfigError` (fatal) naming the
setting, raised before any gateway is called; a key the gateway itself refuses surfaces at the
first call as `GatewayMisconfigured` (fatal). No secret appears in a message.
The SDKs are imported only when their gateway is built (about 0.3 s each).
"""

from __future__ import annotations

from typing import Protocol

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.payments.fake import FakeGateway
from lineblocs_shared.payments.protocol import PaymentGateway
from lineblocs_shared.payments.settings import PaymentSettings
from lineblocs_shared.payments.types import require_cents_currency
from lineblocs_shared.site_settings.values import BraintreeCredentials, GatewayChoice, StripeMode


class GatewaySettings(Protocol):
    """The part of `SiteSettings` a gateway is built from."""

    @property
    def payment_gateway(self) -> GatewayChoice: ...
    @property
    def stripe_mode(self) -> StripeMode: ...
    @property
    def stripe_secret_key(self) -> str: ...
    @property
    def braintree(self) -> BraintreeCredentials: ...
    @property
    def default_currency(self) -> str: ...


def gateway_for(lineblocs: GatewaySettings, payments: PaymentSettings) -> PaymentGateway:
    choice = payments.payment_gateway_override or lineblocs.payment_gateway.value
    currency = require_cents_currency(lineblocs.default_currency)
    if choice == "fake":
        return FakeGateway(currency=currency, latency_s=payments.fake_gateway_latency_ms / 1000)
    if choice == GatewayChoice.STRIPE:
        return _stripe(lineblocs, payments, currency)
    if choice == GatewayChoice.BRAINTREE:
        return _braintree(lineblocs, payments, currency)
    raise ConfigError(f"unknown payment gateway {choice!r}")  # settings validate; never reached


def _stripe(lineblocs: GatewaySettings, payments: PaymentSettings, currency: str) -> PaymentGateway:
    from lineblocs_shared.payments.stripe_gateway import StripeGateway

    mode = lineblocs.stripe_mode
    label = "stripe_test_private_key" if mode is StripeMode.TEST else "stripe_private_key"
    key = lineblocs.stripe_secret_key
    check_stripe_key(key, mode=mode, label=label)
    return StripeGateway(
        api_key=key,
        currency=currency,
        api_base=payments.stripe_api_base or None,
        timeout_s=payments.payment_timeout_s,
        network_retries=payments.payment_network_retries,
        key_label=label,
    )


def _braintree(
    lineblocs: GatewaySettings, payments: PaymentSettings, currency: str
) -> PaymentGateway:
    from lineblocs_shared.payments.braintree_gateway import BraintreeGateway

    return BraintreeGateway(
        credentials=lineblocs.braintree,
        currency=currency,
        api_base=payments.braintree_api_base or None,
        timeout_s=payments.payment_timeout_s,
    )


def check_stripe_key(key: str, *, mode: StripeMode, label: str) -> None:
    """A secret (sk_) or restricted (rk_) key of the mode chosen. A test key in the live slot
    would mark invoices PAID while no money moves; a live key in test mode would charge real
    cards during a test: both are refused."""
    if key.startswith("pk_"):
        raise ConfigError(f"{label} holds a publishable key (pk_…): billing needs the secret key")
    if not key.startswith(("sk_", "rk_")):
        raise ConfigError(f"{label} is not a Stripe secret key (expected sk_… or rk_…)")
    key_mode = next((m for m in ("live", "test") if key[3:].startswith(f"{m}_")), None)
    if key_mode is not None and key_mode != mode.value:
        raise ConfigError(
            f"{label} holds a {key_mode} key but stripe_mode is {mode.value!r}: refusing to charge"
        )

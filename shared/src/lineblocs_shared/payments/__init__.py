"""Payment gateways behind one port: Stripe, Braintree, and an in-memory fake.

    gateway = gateway_for(SiteSettings(bind=session), payment_settings)
    payment = charge_attempt(gateway, req, stored_payment_id=..., resumed=..., record_created=...)

The Stripe and Braintree modules are not imported here: the SDKs load only when one is built.
"""

from lineblocs_shared.payments.errors import (
    GatewayMisconfigured,
    GatewayRequestRejected,
    GatewayUnavailable,
)
from lineblocs_shared.payments.factory import GatewaySettings, gateway_for
from lineblocs_shared.payments.fake import FakeGateway
from lineblocs_shared.payments.flow import charge_attempt
from lineblocs_shared.payments.protocol import PaymentGateway
from lineblocs_shared.payments.settings import PaymentSettings, load_payment_settings
from lineblocs_shared.payments.types import ChargeRequest, GatewayPayment, PaymentStatus

__all__ = [
    "ChargeRequest",
    "FakeGateway",
    "GatewayMisconfigured",
    "GatewayPayment",
    "GatewayRequestRejected",
    "GatewaySettings",
    "GatewayUnavailable",
    "PaymentGateway",
    "PaymentSettings",
    "PaymentStatus",
    "charge_attempt",
    "gateway_for",
    "load_payment_settings",
]

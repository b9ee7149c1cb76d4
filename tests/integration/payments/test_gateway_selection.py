"""gateway_for wires STRIPE_API_BASE / BRAINTREE_API_BASE and the credentials end to end."""

from __future__ import annotations

import pytest

from lineblocs_shared.payments import ChargeRequest, PaymentSettings, PaymentStatus, gateway_for
from lineblocs_shared.payments import PaymentGateway as Gateway
from lineblocs_shared.site_settings.values import (
    BraintreeCredentials,
    BraintreeEnvironment,
    GatewayChoice,
    StripeMode,
)
from tests.support.braintree_fake import BraintreeFake
from tests.support.gateway_settings import GatewaySettingsValues as Settings
from tests.support.localstripe_server import TEST_SECRET_KEY, LocalStripe, seed_customer
from tests.support.stripe_proxy import StripeProxy

pytestmark = pytest.mark.integration


def pay(gateway: Gateway, req: ChargeRequest) -> PaymentStatus:
    created = gateway.create_payment(req)
    return gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key).status


def request(customer: str, method: str, key: str) -> ChargeRequest:
    return ChargeRequest(
        attempt_key=key,
        amount_cents=999,
        currency="CAD",
        customer_id=customer,
        payment_method_id=method,
        workspace_id=1,
        invoice_id=1,
    )


def test_stripe_api_base_sends_the_charge_to_the_configured_server(
    localstripe: LocalStripe, stripe_proxy: StripeProxy
) -> None:
    customer = seed_customer(localstripe.url)
    lineblocs = Settings(stripe_mode=StripeMode.TEST, stripe_secret_key=TEST_SECRET_KEY)
    payments = PaymentSettings(environment="test", stripe_api_base=stripe_proxy.url)
    req = request(customer.customer_id, customer.payment_method_id, "lineblocs_1_20261101_42")

    assert pay(gateway_for(lineblocs, payments), req) is PaymentStatus.SUCCEEDED
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 1


def test_braintree_api_base_sends_the_charge_to_the_configured_server() -> None:
    fake = BraintreeFake()
    try:
        fake.add_payment_method("cust_1", "tok_1")
        credentials = BraintreeCredentials(
            merchant_id=fake.merchant_id,
            public_key=fake.public_key,
            private_key=fake.private_key,
            environment=BraintreeEnvironment.PRODUCTION,
        )
        lineblocs = Settings(payment_gateway=GatewayChoice.BRAINTREE, braintree=credentials)
        payments = PaymentSettings(environment="test", braintree_api_base=fake.url)
        req = request("cust_1", "tok_1", "lineblocs_1_20261101_1")

        assert pay(gateway_for(lineblocs, payments), req) is PaymentStatus.SUCCEEDED
        assert fake.settled_by_order() == {req.attempt_key: 1}
    finally:
        fake.close()

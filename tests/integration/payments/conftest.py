"""Gateways over real HTTP: localstripe behind our Stripe proxy, and our Braintree fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lineblocs_shared.payments.braintree_gateway import BraintreeGateway
from lineblocs_shared.payments.stripe_gateway import StripeGateway
from lineblocs_shared.site_settings.values import BraintreeCredentials, BraintreeEnvironment
from tests.support.braintree_fake import BraintreeFake
from tests.support.localstripe_server import TEST_SECRET_KEY
from tests.support.payment_fixtures import braintree_fake, localstripe, stripe_proxy
from tests.support.stripe_proxy import StripeProxy

__all__ = ["braintree_fake", "localstripe", "stripe_proxy"]  # fixtures, re-exported

MakeStripe = Callable[..., StripeGateway]


@pytest.fixture
def make_stripe(stripe_proxy: StripeProxy) -> MakeStripe:
    def make(
        *, api_key: str = TEST_SECRET_KEY, network_retries: int = 0, timeout_s: float = 5
    ) -> StripeGateway:
        return StripeGateway(
            api_key=api_key,
            currency="CAD",
            api_base=stripe_proxy.url,
            timeout_s=timeout_s,
            network_retries=network_retries,
            key_label="stripe_test_private_key",
        )

    return make


MakeBraintree = Callable[..., BraintreeGateway]


@pytest.fixture
def make_braintree(braintree_fake: BraintreeFake) -> MakeBraintree:
    def make(*, private_key: str | None = None, currency: str = "CAD") -> BraintreeGateway:
        credentials = BraintreeCredentials(
            merchant_id=braintree_fake.merchant_id,
            public_key=braintree_fake.public_key,
            private_key=private_key or braintree_fake.private_key,
            environment=BraintreeEnvironment.SANDBOX,
        )
        return BraintreeGateway(
            credentials=credentials, currency=currency, api_base=braintree_fake.url, timeout_s=5
        )

    return make

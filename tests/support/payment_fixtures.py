"""Pytest fixtures for the local payment servers; import them into a conftest.py to use them:

    from tests.support.payment_fixtures import braintree_fake, localstripe, stripe_proxy
    __all__ = ["braintree_fake", "localstripe", "stripe_proxy"]  # fixtures, re-exported

`localstripe` is one subprocess per session (bound to 127.0.0.1); `stripe_proxy` and
`braintree_fake` are fresh per test (their faults, idempotency store and counters start empty).
Point a worker at them with STRIPE_API_BASE=<stripe_proxy.url> (Lineblocs settings:
payment_gateway=stripe, stripe_mode=test, stripe_test_private_key=TEST_SECRET_KEY) or
BRAINTREE_API_BASE=<braintree_fake.url> (braintree_* = the fake's merchant id and keys).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.braintree_fake import BraintreeFake
from tests.support.localstripe_server import LocalStripe
from tests.support.stripe_proxy import StripeProxy


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    server = LocalStripe.start()
    yield server
    server.stop()


@pytest.fixture
def stripe_proxy(localstripe: LocalStripe) -> Iterator[StripeProxy]:
    proxy = StripeProxy(localstripe.url)
    yield proxy
    proxy.close()


@pytest.fixture
def braintree_fake() -> Iterator[BraintreeFake]:
    fake = BraintreeFake(currency="CAD")
    yield fake
    fake.close()

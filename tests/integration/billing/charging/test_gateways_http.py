"""Charging through the real SDKs over HTTP, chosen by Lineblocs' own settings: Stripe as
played by localstripe behind our proxy, Braintree as played by our fake. Charges are counted
at the gateway server, not from our rows."""

from __future__ import annotations

from typing import Any

import pytest

from lineblocs_billing.settling.gateways import SettingsGateways
from lineblocs_billing.settling.outcome import SettlingOutcome
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.payments import (
    GatewayMisconfigured,
    GatewayUnavailable,
    load_payment_settings,
)
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from tests.integration.billing.charging.conftest import Billed
from tests.integration.billing.invoicing.scenario import Tenant
from tests.support.braintree_fake import Behaviour, BraintreeFake
from tests.support.braintree_fake import Fault as BraintreeFault
from tests.support.localstripe_server import (
    CARD_DECLINED_ON_CHARGE,
    TEST_SECRET_KEY,
    LocalStripe,
    seed_customer,
)
from tests.support.payment_fixtures import braintree_fake, localstripe, stripe_proxy
from tests.support.stripe_proxy import Fault, StripeProxy

__all__ = ["braintree_fake", "localstripe", "stripe_proxy"]  # fixtures, re-exported

pytestmark = pytest.mark.integration

CONFIRM = r"^/v1/payment_intents/[^/]+/confirm$"
SALE = r"/transactions$"


def _stripe(billed: Billed, proxy: StripeProxy, *, key: str = TEST_SECRET_KEY) -> None:
    billed.customize(payment_gateway="stripe", billing_retry_enabled=True)
    billed.credentials(stripe_mode="test", stripe_test_private_key=key)
    billed.gateways = SettingsGateways(
        load_payment_settings(
            payment_gateway_override="",
            stripe_api_base=proxy.url,
            payment_network_retries=0,
            payment_timeout_s=3,
        )
    )


def _stripe_tenant(billed: Billed, localstripe: LocalStripe, card: str | None = None) -> Tenant:
    customer = seed_customer(localstripe.url, **({"card_number": card} if card else {}))
    return billed.tenant(card=customer.payment_method_id, customer=customer.customer_id)


def _charges_of(proxy: StripeProxy, tenant: Tenant) -> list[dict[str, Any]]:
    """The tenant's successful charges, as localstripe holds them (one server per session)."""
    return [i for i in proxy.intents_of(tenant.user.stripe_id) if i["status"] == "succeeded"]


def test_stripe_a_lost_confirmation_answer_is_reconciled_and_charged_once(
    billed: Billed, localstripe: LocalStripe, stripe_proxy: StripeProxy
) -> None:
    _stripe(billed, stripe_proxy)
    tenant = _stripe_tenant(billed, localstripe)
    lost = stripe_proxy.inject(Fault.LOST_RESPONSE, path=CONFIRM)

    with pytest.raises(GatewayUnavailable) as raised:
        billed.bill(tenant)  # the money is taken, we heard nothing
    assert lost.is_set()
    assert classify(raised.value) is ErrorKind.TRANSIENT  # the queue retries the message
    [attempt] = billed.attempts(tenant)
    assert attempt.state == "created"
    assert attempt.error is not None

    report = billed.bill(tenant)  # the retry

    assert [p.settled for p in report.periods] == [SettlingOutcome.PAID]
    [attempt] = billed.attempts(tenant)
    [intent] = _charges_of(stripe_proxy, tenant)
    assert intent["metadata"]["attempt_key"] == attempt.attempt_key
    assert (intent["amount"], intent["currency"]) == (2499, "cad")
    assert billed.invoice(tenant).payment_gateway_id == intent["id"]


def test_stripe_a_declined_card_fails_the_invoice(
    billed: Billed, localstripe: LocalStripe, stripe_proxy: StripeProxy
) -> None:
    _stripe(billed, stripe_proxy)
    tenant = _stripe_tenant(billed, localstripe, card=CARD_DECLINED_ON_CHARGE)

    billed.bill(tenant)

    assert billed.invoice(tenant).status == "FAILED"
    [notice] = billed.events("payment_failed", tenant)
    assert notice["reason"]  # Stripe's decline code
    assert _charges_of(stripe_proxy, tenant) == []


def test_a_gateway_without_keys_is_fatal_and_charges_nothing(
    billed: Billed, stripe_proxy: StripeProxy
) -> None:
    _stripe(billed, stripe_proxy)
    tenant = billed.tenant(card="pm_x", customer="cus_x")
    with billed.engine.begin() as conn:  # the admin cleared the key
        conn.exec_driver_sql(
            "UPDATE api_credentials_kv_store SET string_value = '' "
            "WHERE `key` = 'stripe_test_private_key'"
        )

    with pytest.raises(ConfigError, match="stripe_test_private_key") as raised:
        billed.bill(tenant)

    assert classify(raised.value) is ErrorKind.FATAL  # dead letter and one alert, no retry
    assert billed.attempts(tenant) == []  # failed before any attempt or gateway call
    assert billed.invoice(tenant).status == "PENDING"
    assert billed.record(tenant).state == "invoiced"
    assert stripe_proxy.seen() == []


def test_a_key_the_gateway_refuses_is_fatal_and_charges_nothing(
    billed: Billed, localstripe: LocalStripe, stripe_proxy: StripeProxy
) -> None:
    _stripe(billed, stripe_proxy, key="sk_test_revoked_key")
    tenant = _stripe_tenant(billed, localstripe)

    with pytest.raises(GatewayMisconfigured) as raised:
        billed.bill(tenant)

    assert classify(raised.value) is ErrorKind.FATAL
    assert "sk_test_revoked_key" not in str(raised.value)
    assert _charges_of(stripe_proxy, tenant) == []
    assert billed.invoice(tenant).status == "PENDING"


def _braintree(billed: Billed, fake: BraintreeFake) -> None:
    billed.customize(payment_gateway="braintree", billing_retry_enabled=True)
    billed.credentials(
        braintree_merchant_id=fake.merchant_id,
        braintree_public_key=fake.public_key,
        braintree_private_key=fake.private_key,
        braintree_environment="sandbox",
    )
    billed.gateways = SettingsGateways(
        load_payment_settings(
            payment_gateway_override="", braintree_api_base=fake.url, payment_timeout_s=3
        )
    )


def _braintree_tenant(billed: Billed, fake: BraintreeFake, behaviour: Behaviour) -> Tenant:
    tenant = billed.tenant(card=f"tok_{behaviour}", customer=f"cust_{behaviour}")
    fake.add_payment_method(f"cust_{behaviour}", f"tok_{behaviour}", behaviour)
    return tenant


def test_braintree_a_lost_sale_answer_is_found_by_order_id_and_settled_once(
    billed: Billed, braintree_fake: BraintreeFake
) -> None:
    _braintree(billed, braintree_fake)
    tenant = _braintree_tenant(billed, braintree_fake, Behaviour.APPROVE)
    braintree_fake.inject(BraintreeFault.LOST_RESPONSE, path=SALE)

    with pytest.raises(GatewayUnavailable):
        billed.bill(tenant)
    billed.bill(tenant)

    [attempt] = billed.attempts(tenant)
    assert attempt.state == "succeeded"
    [transaction] = braintree_fake.transactions()  # one authorization, never a second sale
    assert transaction.order_id == attempt.attempt_key
    assert braintree_fake.settled_by_order() == {attempt.attempt_key: 1}
    assert billed.invoice(tenant).payment_gateway_id == transaction.id


def test_braintree_a_declined_authorization_fails_the_invoice(
    billed: Billed, braintree_fake: BraintreeFake
) -> None:
    _braintree(billed, braintree_fake)
    tenant = _braintree_tenant(billed, braintree_fake, Behaviour.PROCESSOR_DECLINE)

    billed.bill(tenant)

    [attempt] = billed.attempts(tenant)
    assert (attempt.state, attempt.decline_code) == ("declined", "2000")
    assert billed.invoice(tenant).status == "FAILED"
    assert braintree_fake.settled_by_order() == {}

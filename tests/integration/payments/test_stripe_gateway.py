"""The Stripe adapter over real HTTP with the real SDK: localstripe behind our proxy, which adds
Stripe's idempotency, API-key checks and injected faults, and counts charges at the server."""

from __future__ import annotations

import random

import pytest

from lineblocs_shared.payments import (
    ChargeRequest,
    GatewayMisconfigured,
    GatewayPayment,
    GatewayRequestRejected,
    GatewayUnavailable,
    PaymentStatus,
    charge_attempt,
)
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from tests.integration.payments.conftest import MakeStripe
from tests.support.localstripe_server import (
    CARD_DECLINED_ON_CHARGE,
    CARD_NEEDS_AUTHENTICATION,
    LocalStripe,
    StripeCustomer,
    seed_customer,
)
from tests.support.stripe_proxy import Fault, StripeProxy

pytestmark = pytest.mark.integration

CREATE = r"^/v1/payment_intents$"
CONFIRM = r"^/v1/payment_intents/[^/]+/confirm$"


def charge(customer: StripeCustomer, *, cents: int = 4999, attempt: int = 1) -> ChargeRequest:
    workspace = random.randrange(10**6, 10**7)  # keys unique across the session's localstripe
    return ChargeRequest(
        attempt_key=f"lineblocs_{workspace}_20261101_{attempt}",
        amount_cents=cents,
        currency="CAD",
        customer_id=customer.customer_id,
        payment_method_id=customer.payment_method_id,
        workspace_id=workspace,
        invoice_id=77,
        description="Lineblocs invoice M-1-20261101",
    )


def create_and_confirm(gateway: object, req: ChargeRequest) -> GatewayPayment:
    return charge_attempt(
        gateway,  # type: ignore[arg-type]
        req,
        stored_payment_id=None,
        resumed=False,
        record_created=lambda _: None,
    )


def test_a_charge_is_created_then_confirmed_and_taken_once(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer, cents=12345)
    gateway = make_stripe()

    created = gateway.create_payment(req)
    assert created.status is PaymentStatus.CREATED  # nothing taken before the id is stored
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 0
    paid = gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key)

    assert paid.status is PaymentStatus.SUCCEEDED
    assert (paid.payment_id, paid.amount_cents, paid.currency) == (created.payment_id, 12345, "CAD")
    [intent] = stripe_proxy.intents_of(customer.customer_id)
    assert intent["currency"] == "cad"
    assert intent["metadata"] == req.metadata
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 1
    keys = [s.idempotency_key for s in stripe_proxy.seen() if s.method == "POST"]
    assert keys == [f"{req.attempt_key}:create", f"{req.attempt_key}:confirm"]


def test_a_card_declined_at_charge_time_is_a_decline_not_an_error(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url, card_number=CARD_DECLINED_ON_CHARGE)
    req = charge(customer)

    payment = create_and_confirm(make_stripe(), req)

    assert payment.status is PaymentStatus.DECLINED
    assert payment.decline_code == "card_declined"
    assert payment.decline_message
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 0


def test_a_card_needing_authentication_is_declined_and_its_intent_cancelled(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url, card_number=CARD_NEEDS_AUTHENTICATION)
    req = charge(customer)

    payment = create_and_confirm(make_stripe(), req)

    assert payment.status is PaymentStatus.DECLINED
    assert payment.decline_code == "authentication_required"
    [intent] = stripe_proxy.intents_of(customer.customer_id)
    assert intent["status"] == "canceled"  # it can never succeed later


def test_a_lost_create_response_is_replayed_by_the_sdk_retry_without_a_second_intent(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer)
    stripe_proxy.inject(Fault.LOST_RESPONSE, path=CREATE)

    created = make_stripe(network_retries=2).create_payment(req)

    assert created.status is PaymentStatus.CREATED
    outcomes = [s.outcome for s in stripe_proxy.seen()]
    assert outcomes == ["lost_response", "replayed"]
    assert len(stripe_proxy.intents_of(customer.customer_id)) == 1


def test_a_create_sent_again_after_a_lost_response_returns_the_same_intent(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer)
    gateway = make_stripe(network_retries=0)
    stripe_proxy.inject(Fault.LOST_RESPONSE, path=CREATE)

    with pytest.raises(GatewayUnavailable) as lost:
        gateway.create_payment(req)
    assert classify(lost.value) is ErrorKind.TRANSIENT
    again = gateway.create_payment(req)  # the redelivered message, same attempt key

    [intent] = stripe_proxy.intents_of(customer.customer_id)
    assert again.payment_id == intent["id"]


def test_a_lost_confirm_response_is_reconciled_to_one_successful_charge(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer)
    gateway = make_stripe(network_retries=0)
    created = gateway.create_payment(req)
    stripe_proxy.inject(Fault.LOST_RESPONSE, path=CONFIRM)

    with pytest.raises(GatewayUnavailable):
        gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key)
    found = gateway.find_payment(req.attempt_key, customer_id=req.customer_id)
    resumed = charge_attempt(
        gateway,
        req,
        stored_payment_id=created.payment_id,
        resumed=True,
        record_created=lambda _: pytest.fail("the id is already stored"),
    )

    assert found is not None
    assert found.status is PaymentStatus.SUCCEEDED
    assert found.payment_id == created.payment_id
    assert resumed.status is PaymentStatus.SUCCEEDED
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 1
    confirms = [s for s in stripe_proxy.seen() if s.path.endswith("/confirm")]
    assert len(confirms) == 1  # the redelivery looked, and did not confirm again


def test_a_confirmation_slower_than_the_read_timeout_is_transient_and_reconciled(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer)
    gateway = make_stripe(network_retries=0, timeout_s=0.3)
    created = gateway.create_payment(req)
    charged = stripe_proxy.inject(Fault.SLOW_RESPONSE, path=CONFIRM, delay_s=1.0)

    with pytest.raises(GatewayUnavailable) as timed_out:
        gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key)

    assert charged.is_set()  # Stripe charged; the answer came too late
    assert classify(timed_out.value) is ErrorKind.TRANSIENT
    found = gateway.find_payment(
        req.attempt_key, customer_id=req.customer_id, payment_id=created.payment_id
    )
    assert found is not None
    assert found.status is PaymentStatus.SUCCEEDED
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 1


def test_without_idempotency_at_the_gateway_a_resumed_attempt_still_charges_once(
    localstripe: LocalStripe, make_stripe: MakeStripe, stripe_proxy: StripeProxy
) -> None:
    """The worker died after Stripe created the intent, before its id was committed; and this
    gateway ignores idempotency keys. Finding by the attempt key is what prevents a second
    intent."""
    stripe_proxy.honor_idempotency = False
    customer = seed_customer(localstripe.url)
    req = charge(customer)
    gateway = make_stripe(network_retries=0)
    stripe_proxy.inject(Fault.LOST_RESPONSE, path=CREATE)
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(req)
    recorded: list[str] = []

    payment = charge_attempt(
        gateway,
        req,
        stored_payment_id=None,
        resumed=True,
        record_created=lambda p: recorded.append(p.payment_id),
    )

    [intent] = stripe_proxy.intents_of(customer.customer_id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert recorded == [intent["id"]]
    assert stripe_proxy.successful_charges_by()[req.attempt_key] == 1


def test_find_payment_is_none_when_the_attempt_never_reached_stripe(
    localstripe: LocalStripe, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    gateway = make_stripe()
    other = charge(customer)
    create_and_confirm(gateway, other)

    assert gateway.find_payment(charge(customer).attempt_key, customer_id=customer.customer_id) is (
        None
    )


def test_find_payment_pages_through_a_customer_with_many_intents(
    localstripe: LocalStripe, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    gateway = make_stripe()
    oldest = charge(customer)
    created = gateway.create_payment(oldest)
    for _ in range(105):  # more than one page of 100 after it
        gateway.create_payment(charge(customer))

    found = gateway.find_payment(oldest.attempt_key, customer_id=customer.customer_id)

    assert found is not None
    assert found.payment_id == created.payment_id


@pytest.mark.parametrize(("fault", "status"), [(Fault.HTTP_500, 500), (Fault.HTTP_429, 429)])
def test_server_errors_and_rate_limits_are_transient_and_create_nothing(
    localstripe: LocalStripe,
    stripe_proxy: StripeProxy,
    make_stripe: MakeStripe,
    fault: Fault,
    status: int,
) -> None:
    customer = seed_customer(localstripe.url)
    stripe_proxy.inject(fault, path=CREATE)

    with pytest.raises(GatewayUnavailable, match=f"HTTP {status}|busy") as raised:
        make_stripe(network_retries=0).create_payment(charge(customer))

    assert classify(raised.value) is ErrorKind.TRANSIENT
    assert stripe_proxy.intents_of(customer.customer_id) == []


def test_one_server_error_is_absorbed_by_the_sdk_network_retry(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    stripe_proxy.inject(Fault.HTTP_500, path=CREATE)

    created = make_stripe(network_retries=2).create_payment(charge(customer))

    assert created.status is PaymentStatus.CREATED
    assert [s.outcome for s in stripe_proxy.seen()] == ["http_500", "forwarded"]


def test_a_bad_api_key_is_fatal_names_the_setting_and_charges_nothing(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    bad_key = "sk_test_revoked_0123456789"

    with pytest.raises(GatewayMisconfigured) as raised:
        make_stripe(api_key=bad_key, network_retries=2).create_payment(charge(customer))

    assert classify(raised.value) is ErrorKind.FATAL
    assert "stripe_test_private_key" in str(raised.value)
    assert bad_key not in str(raised.value)
    assert stripe_proxy.intents_of(customer.customer_id) == []
    assert [s.outcome for s in stripe_proxy.seen()] == ["refused"]  # not retried


def test_an_attempt_key_reused_with_another_amount_is_refused(
    localstripe: LocalStripe, stripe_proxy: StripeProxy, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(customer, cents=1000)
    gateway = make_stripe()
    gateway.create_payment(req)
    changed = ChargeRequest(**{**req.__dict__, "amount_cents": 2000})

    with pytest.raises(GatewayRequestRejected, match="idempotency") as raised:
        gateway.create_payment(changed)

    assert classify(raised.value) is ErrorKind.FATAL
    assert len(stripe_proxy.intents_of(customer.customer_id)) == 1


def test_an_unknown_payment_method_is_fatal_bad_data(
    localstripe: LocalStripe, make_stripe: MakeStripe
) -> None:
    customer = seed_customer(localstripe.url)
    req = charge(StripeCustomer(customer.customer_id, "pm_doesnotexist"))

    with pytest.raises(GatewayRequestRejected) as raised:
        make_stripe().create_payment(req)

    assert classify(raised.value) is ErrorKind.FATAL

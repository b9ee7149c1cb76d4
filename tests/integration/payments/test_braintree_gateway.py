"""The Braintree adapter over real HTTP with the real SDK, against our protocol-level fake."""

from __future__ import annotations

import itertools

import pytest

from lineblocs_shared.payments import (
    ChargeRequest,
    GatewayMisconfigured,
    GatewayRequestRejected,
    GatewayUnavailable,
    PaymentStatus,
    charge_attempt,
)
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from tests.integration.payments.conftest import MakeBraintree
from tests.support.braintree_fake import Behaviour, BraintreeFake, Fault

pytestmark = pytest.mark.integration

SALE = r"/transactions$"
SETTLE = r"/submit_for_settlement$"
_workspaces = itertools.count(1)


def charge(fake: BraintreeFake, behaviour: Behaviour = Behaviour.APPROVE) -> ChargeRequest:
    workspace = next(_workspaces)
    token = f"tok_{workspace}_{behaviour}"
    fake.add_payment_method(f"cust_{workspace}", token, behaviour)
    return ChargeRequest(
        attempt_key=f"lineblocs_{workspace}_20261101_1",
        amount_cents=12345,
        currency="CAD",
        customer_id=f"cust_{workspace}",
        payment_method_id=token,
        workspace_id=workspace,
        invoice_id=9,
    )


def test_a_charge_is_authorized_then_settled_once(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    req = charge(braintree_fake)
    gateway = make_braintree()

    authorized = gateway.create_payment(req)
    assert authorized.status is PaymentStatus.CREATED
    assert braintree_fake.settled_by_order()[req.attempt_key] == 0  # nothing taken yet
    settled = gateway.confirm_payment(authorized.payment_id, attempt_key=req.attempt_key)

    assert settled.status is PaymentStatus.SUCCEEDED
    assert (settled.amount_cents, settled.currency) == (12345, "CAD")
    [transaction] = braintree_fake.transactions()
    assert (transaction.order_id, str(transaction.amount)) == (req.attempt_key, "123.45")
    assert transaction.customer_id == req.customer_id
    assert braintree_fake.settled_by_order()[req.attempt_key] == 1


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [(Behaviour.PROCESSOR_DECLINE, "2000"), (Behaviour.GATEWAY_REJECT, "fraud")],
)
def test_a_refused_authorization_is_a_decline_and_nothing_is_settled(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree, behaviour: Behaviour, code: str
) -> None:
    req = charge(braintree_fake, behaviour)

    payment = charge_attempt(
        make_braintree(),
        req,
        stored_payment_id=None,
        resumed=False,
        record_created=lambda _: pytest.fail("a declined sale has nothing to confirm"),
    )

    assert payment.status is PaymentStatus.DECLINED
    assert payment.decline_code == code
    assert braintree_fake.settled_by_order()[req.attempt_key] == 0


def test_a_lost_sale_response_is_found_by_order_id_and_settled_once(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    req = charge(braintree_fake)
    gateway = make_braintree()
    braintree_fake.inject(Fault.LOST_RESPONSE, path=SALE)
    with pytest.raises(GatewayUnavailable) as lost:
        gateway.create_payment(req)
    assert classify(lost.value) is ErrorKind.TRANSIENT
    recorded: list[str] = []

    payment = charge_attempt(
        gateway,
        req,
        stored_payment_id=None,
        resumed=True,
        record_created=lambda p: recorded.append(p.payment_id),
    )

    [transaction] = braintree_fake.transactions()  # no second sale
    assert payment.status is PaymentStatus.SUCCEEDED
    assert recorded == [transaction.id]
    assert braintree_fake.settled_by_order()[req.attempt_key] == 1


def test_a_lost_settlement_response_is_reconciled_without_settling_twice(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    req = charge(braintree_fake)
    gateway = make_braintree()
    authorized = gateway.create_payment(req)
    braintree_fake.inject(Fault.LOST_RESPONSE, path=SETTLE, method="PUT")
    with pytest.raises(GatewayUnavailable):
        gateway.confirm_payment(authorized.payment_id, attempt_key=req.attempt_key)

    payment = charge_attempt(
        gateway,
        req,
        stored_payment_id=authorized.payment_id,
        resumed=True,
        record_created=lambda _: pytest.fail("the id is already stored"),
    )

    assert payment.status is PaymentStatus.SUCCEEDED
    assert braintree_fake.settled_by_order()[req.attempt_key] == 1
    settles = [r for r in braintree_fake.requests() if r[1].endswith("/submit_for_settlement")]
    assert len(settles) == 1  # the redelivery looked first


def test_settling_again_returns_the_transaction_as_it_stands(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    req = charge(braintree_fake)
    gateway = make_braintree()
    authorized = gateway.create_payment(req)
    gateway.confirm_payment(authorized.payment_id, attempt_key=req.attempt_key)

    again = gateway.confirm_payment(authorized.payment_id, attempt_key=req.attempt_key)

    assert again.status is PaymentStatus.SUCCEEDED  # Braintree said 91507; we looked it up
    assert braintree_fake.settled_by_order()[req.attempt_key] == 1


def test_find_payment_is_none_for_an_order_id_never_sent(make_braintree: MakeBraintree) -> None:
    assert make_braintree().find_payment("lineblocs_0_20261101_1", customer_id="c") is None


def test_a_server_error_is_transient_and_creates_nothing(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    braintree_fake.inject(Fault.HTTP_500, path=SALE)

    with pytest.raises(GatewayUnavailable) as raised:
        make_braintree().create_payment(charge(braintree_fake))

    assert classify(raised.value) is ErrorKind.TRANSIENT
    assert braintree_fake.transactions() == []


def test_bad_credentials_are_fatal_name_the_settings_and_charge_nothing(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    with pytest.raises(GatewayMisconfigured) as raised:
        make_braintree(private_key="wrong-private-key").create_payment(charge(braintree_fake))

    assert classify(raised.value) is ErrorKind.FATAL
    assert "braintree_private_key" in str(raised.value)
    assert "wrong-private-key" not in str(raised.value)
    assert braintree_fake.transactions() == []


def test_a_merchant_in_another_currency_is_fatal_and_its_authorization_voided(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    braintree_fake.currency = "USD"
    req = charge(braintree_fake)

    with pytest.raises(GatewayMisconfigured, match="USD") as raised:
        make_braintree().create_payment(req)

    assert classify(raised.value) is ErrorKind.FATAL
    [transaction] = braintree_fake.transactions()
    assert transaction.status == "voided"


def test_an_unknown_payment_method_token_is_fatal_bad_data(
    braintree_fake: BraintreeFake, make_braintree: MakeBraintree
) -> None:
    req = ChargeRequest(**{**charge(braintree_fake).__dict__, "payment_method_id": "tok_gone"})

    with pytest.raises(GatewayRequestRejected, match="91518") as raised:
        make_braintree().create_payment(req)

    assert classify(raised.value) is ErrorKind.FATAL
    assert braintree_fake.transactions() == []

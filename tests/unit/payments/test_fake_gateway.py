"""The fake gateway of the demo and benchmarks: idempotent per attempt, deterministic declines."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from lineblocs_shared.payments import (
    ChargeRequest,
    FakeGateway,
    GatewayRequestRejected,
    PaymentStatus,
)


def request(method: str = "pm_ok", attempt: int = 1, cents: int = 2500) -> ChargeRequest:
    return ChargeRequest(
        attempt_key=f"lineblocs_4_20261101_{attempt}",
        amount_cents=cents,
        currency="CAD",
        customer_id="cus_4",
        payment_method_id=method,
        workspace_id=4,
        invoice_id=11,
    )


def pay(gateway: FakeGateway, req: ChargeRequest) -> PaymentStatus:
    created = gateway.create_payment(req)
    return gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key).status


def test_creating_twice_with_one_attempt_key_is_one_payment_and_one_charge() -> None:
    gateway = FakeGateway()
    req = request()

    first = gateway.create_payment(req)
    second = gateway.create_payment(req)
    gateway.confirm_payment(first.payment_id, attempt_key=req.attempt_key)
    again = gateway.confirm_payment(second.payment_id, attempt_key=req.attempt_key)

    assert first == replace(second, status=first.status)
    assert again.status is PaymentStatus.SUCCEEDED
    assert gateway.successful_charges() == {req.attempt_key: 1}
    assert gateway.charged_cents() == 2500


def test_an_attempt_key_reused_with_another_amount_is_refused() -> None:
    gateway = FakeGateway()
    gateway.create_payment(request(cents=100))

    with pytest.raises(GatewayRequestRejected):
        gateway.create_payment(request(cents=200))


@pytest.mark.parametrize(
    ("method", "code"),
    [("pm_card_decline", "card_declined"), ("pm_needs_auth", "authentication_required")],
)
def test_payment_methods_named_so_are_declined(method: str, code: str) -> None:
    gateway = FakeGateway()
    req = request(method)

    created = gateway.create_payment(req)
    payment = gateway.confirm_payment(created.payment_id, attempt_key=req.attempt_key)

    assert payment.status is PaymentStatus.DECLINED
    assert payment.decline_code == code
    assert gateway.successful_charges() == {}


def test_decline_once_declines_the_first_attempt_and_accepts_the_dunning_retry() -> None:
    gateway = FakeGateway()

    assert pay(gateway, request("pm_decline_once", attempt=1)) is PaymentStatus.DECLINED
    assert pay(gateway, request("pm_decline_once", attempt=2)) is PaymentStatus.SUCCEEDED


def test_find_payment_knows_created_payments_only() -> None:
    gateway = FakeGateway()
    req = request()
    created = gateway.create_payment(req)

    assert gateway.find_payment(req.attempt_key, customer_id="cus_4") == created
    assert gateway.find_payment("lineblocs_4_20261101_9", customer_id="cus_4") is None
    with pytest.raises(GatewayRequestRejected):
        gateway.find_payment(req.attempt_key, customer_id="cus_4", payment_id="fake_unknown")


def test_latency_is_added_to_each_call() -> None:
    gateway = FakeGateway(latency_s=0.02)

    started = time.perf_counter()
    pay(gateway, request())

    assert time.perf_counter() - started >= 0.04
    assert gateway.calls == {"create": 1, "confirm": 1}

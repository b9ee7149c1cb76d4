"""charge_attempt: find before re-sending, record the id before confirming, confirm once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lineblocs_shared.payments import (
    ChargeRequest,
    FakeGateway,
    GatewayPayment,
    GatewayRequestRejected,
    PaymentStatus,
    charge_attempt,
)

REQ = ChargeRequest(
    attempt_key="lineblocs_9_20261101_1",
    amount_cents=4200,
    currency="CAD",
    customer_id="cus_9",
    payment_method_id="pm_ok",
    workspace_id=9,
    invoice_id=5,
)


class Recorder:
    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway
        self.ids: list[str] = []
        self.confirms_before_record = 0

    def __call__(self, payment: GatewayPayment) -> None:
        # The id must be stored while nothing has been taken yet.
        self.confirms_before_record = self.gateway.calls["confirm"]
        self.ids.append(payment.payment_id)


def run(
    gateway: FakeGateway, *, stored: str | None = None, resumed: bool = False
) -> tuple[GatewayPayment, Recorder]:
    recorder = Recorder(gateway)
    payment = charge_attempt(
        gateway, REQ, stored_payment_id=stored, resumed=resumed, record_created=recorder
    )
    return payment, recorder


def test_a_fresh_attempt_creates_records_the_id_then_confirms() -> None:
    gateway = FakeGateway()

    payment, recorder = run(gateway)

    assert payment.status is PaymentStatus.SUCCEEDED
    assert recorder.ids == [payment.payment_id]
    assert recorder.confirms_before_record == 0
    assert gateway.calls == {"create": 1, "confirm": 1}  # no lookup on the fast path


def test_a_resumed_attempt_whose_payment_was_created_confirms_it_without_creating() -> None:
    gateway = FakeGateway()
    created = gateway.create_payment(REQ)  # the earlier delivery died before recording this

    payment, recorder = run(gateway, resumed=True)

    assert payment.payment_id == created.payment_id
    assert recorder.ids == [created.payment_id]
    assert gateway.calls["create"] == 1
    assert gateway.successful_charges() == {REQ.attempt_key: 1}


def test_a_resumed_attempt_that_never_reached_the_gateway_creates_it() -> None:
    gateway = FakeGateway()

    payment, _ = run(gateway, resumed=True)

    assert payment.status is PaymentStatus.SUCCEEDED
    assert gateway.calls == {"find": 1, "create": 1, "confirm": 1}


def test_a_stored_id_already_confirmed_is_returned_without_confirming_again() -> None:
    gateway = FakeGateway()
    first, _ = run(gateway)

    again, recorder = run(gateway, stored=first.payment_id, resumed=True)

    assert again.status is PaymentStatus.SUCCEEDED
    assert recorder.ids == []
    assert gateway.calls["confirm"] == 1
    assert gateway.successful_charges() == {REQ.attempt_key: 1}


def test_a_stored_id_not_yet_confirmed_is_confirmed_and_not_recorded_again() -> None:
    gateway = FakeGateway()
    created = gateway.create_payment(REQ)

    payment, recorder = run(gateway, stored=created.payment_id, resumed=True)

    assert payment.status is PaymentStatus.SUCCEEDED
    assert recorder.ids == []


class OtherAmountGateway(FakeGateway):
    def find_payment(
        self, attempt_key: str, *, customer_id: str, payment_id: str | None = None
    ) -> GatewayPayment | None:
        found = super().find_payment(attempt_key, customer_id=customer_id, payment_id=payment_id)
        return found and replace(found, amount_cents=found.amount_cents + 1)


def test_a_payment_found_with_another_amount_stops_the_attempt() -> None:
    gateway = OtherAmountGateway()
    gateway.create_payment(REQ)

    with pytest.raises(GatewayRequestRejected, match="refusing"):
        run(gateway, resumed=True)
    assert gateway.calls["confirm"] == 0

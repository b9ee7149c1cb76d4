"""Money at the gateway edge: exact conversions, and currencies without cents refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.payments.types import (
    ChargeRequest,
    cents_to_decimal,
    decimal_to_cents,
    require_cents_currency,
)


def request(**changes: object) -> ChargeRequest:
    values: dict[str, object] = {
        "attempt_key": "lineblocs_7_20261101_1",
        "amount_cents": 1999,
        "currency": "cad",
        "customer_id": "cus_1",
        "payment_method_id": "pm_1",
        "workspace_id": 7,
        "invoice_id": 3,
    }
    return ChargeRequest(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "amount"), [(1, "0.01"), (10, "0.10"), (12345, "123.45"), (100000000, "1000000.00")]
)
def test_cents_and_decimal_amounts_convert_exactly_both_ways(cents: int, amount: str) -> None:
    assert cents_to_decimal(cents) == Decimal(amount)
    assert f"{cents_to_decimal(cents):.2f}" == amount
    assert decimal_to_cents(Decimal(amount)) == cents


def test_a_fraction_of_a_cent_from_a_gateway_is_an_error_not_rounded() -> None:
    with pytest.raises(ValueError, match="whole number of cents"):
        decimal_to_cents("1.005")


@pytest.mark.parametrize("code", ["JPY", "krw", "KWD"])
def test_currencies_without_cents_are_refused(code: str) -> None:
    with pytest.raises(ConfigError, match="has no cents"):
        require_cents_currency(code)


def test_a_currency_code_is_upper_cased_and_checked() -> None:
    assert require_cents_currency(" cad ") == "CAD"
    with pytest.raises(ConfigError, match="ISO 4217"):
        require_cents_currency("dollars")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount_cents": 0}, ValueError),
        ({"amount_cents": -5}, ValueError),
        ({"amount_cents": 19.99}, TypeError),
        ({"amount_cents": True}, TypeError),
        ({"attempt_key": ""}, ValueError),
        ({"attempt_key": "k" * 97}, ValueError),
        ({"payment_method_id": ""}, ValueError),
        ({"customer_id": ""}, ValueError),
    ],
)
def test_a_charge_request_refuses_what_no_gateway_should_see(
    changes: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        request(**changes)


def test_the_metadata_carries_the_attempt_workspace_and_invoice() -> None:
    assert request().metadata == {
        "attempt_key": "lineblocs_7_20261101_1",
        "workspace_id": "7",
        "invoice_id": "3",
    }

"""Secrets are recognised by field name and by value; replayable data is left alone."""

from __future__ import annotations

import pytest

from lineblocs_shared.reliability.observability.redaction import (
    REDACTED,
    contains_redaction,
    is_card_number,
    is_secret_name,
    redact_arguments,
    scrub_text,
)


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "Passwd",
        "client_secret",
        "stripe_secret_key",
        "stripePublishableKey",
        "access_token",
        "refreshToken",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "Authorization",
        "card",
        "card_number",
        "cardNumber",
        "number",
        "cvc",
        "cvv",
        "pan",
        "private_key",
        "Cookie",
    ],
)
def test_secret_field_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["card_id", "phone_number", "workspace_id", "company", "expand", "amount", "email"],
)
def test_references_a_replay_needs_are_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242424242424242", True),
        ("4242 4242 4242 4242", True),
        ("4000-0566-5566-5556", True),
        ("378282246310005", True),  # Amex, 15 digits
        ("4242424242424241", False),  # fails Luhn
        ("1700000000000", False),  # a millisecond timestamp
        ("15550001234", False),  # a phone number: too short
        ("42424242424242424242", False),  # 20 digits
    ],
)
def test_card_numbers_are_13_to_19_digits_passing_luhn(text: str, expected: bool) -> None:
    assert is_card_number(text) is expected


def test_arguments_are_redacted_recursively_and_keep_the_rest() -> None:
    kwargs = {
        "workspace_id": 12,
        "card_id": 7,
        "phone_number": "+15550001234",
        "card": {"number": "4242424242424242", "exp_month": 12, "cvc": "123"},
        "gateway": {"stripe_secret_key": "sk_live_51AbCdEfGhIjKl", "region": "us"},
        "note": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "raw_card": "5555 5555 5555 4444",
        "headers": [{"Authorization": "Bearer abc.def.ghi"}, "Bearer abc.def.ghi"],
        "amount_cents": 4242424242424242,  # an int is never a card number here
    }
    assert redact_arguments(kwargs) == {
        "workspace_id": 12,
        "card_id": 7,
        "phone_number": "+15550001234",
        "card": REDACTED,
        "gateway": {"stripe_secret_key": REDACTED, "region": "us"},
        "note": REDACTED,
        "raw_card": REDACTED,
        "headers": [{"Authorization": REDACTED}, REDACTED],
        "amount_cents": 4242424242424242,
    }


def test_contains_redaction_finds_the_marker_at_any_depth() -> None:
    assert contains_redaction([1, {"a": [{"b": REDACTED}]}])
    assert not contains_redaction([1, {"a": [{"b": "fine"}]}])


def test_scrub_text_removes_secrets_inside_longer_text() -> None:
    text = (
        "charge for alice@example.com with 4242 4242 4242 4242 failed; key sk_live_51AbCdEfGhIj "
        "header 'Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig' "
        "db mysql+pymysql://jobs:pw0rd@db/lb "
        "invoice 1700000000000 retry?api_key=abc123&page=2 login password: 'hunter2'"
    )
    scrubbed = scrub_text(text)
    for secret in (
        "alice@example.com",
        "4242 4242",
        "sk_live_",
        "eyJhbGciOi",
        "pw0rd",
        "abc123",
        "hunter2",
    ):
        assert secret not in scrubbed
    assert "invoice 1700000000000" in scrubbed
    assert "mysql+pymysql://jobs:" in scrubbed
    assert "&page=2" in scrubbed

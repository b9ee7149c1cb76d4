"""Secrets are recognised by field name and by value; replayable data is left alone."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineblocs_shared.reliability.observability.redaction import (
    EMAIL,
    REDACTED,
    contains_redaction,
    is_card_number,
    is_secret_name,
    mask_secrets,
    passes_luhn,
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


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("pay with 4242424242424242 please", "4242424242424242"),
        ("card=4242-4242-4242-4242;", "4242424242424242"),
        ("4000 0566 5566 5556 at 12:30", "4000056655665556"),  # a card followed by a time
        ("ref 4242424242424242 99", "4242424242424242"),  # and by another number
        ("(4242 4242 4242 4242)", "4242424242424242"),
        ("amex 3782 822463 10005", "378282246310005"),
        ("input_value='4242424242424242'", "4242424242424242"),  # pydantic's error text
    ],
)
def test_a_card_number_inside_any_string_is_masked(text: str, card: str) -> None:
    masked = redact_arguments({"note": text})["note"]
    assert REDACTED in masked
    assert card not in "".join(ch for ch in masked if ch.isdigit())


def test_numbers_that_are_not_card_numbers_are_kept() -> None:
    text = "invoice 1700000000000, phone +15550001234, total 4242424242424241, year 2026"
    assert mask_secrets(text) == text


def luhn_complete(prefix: str) -> str:
    """`prefix` with the check digit that makes it pass Luhn."""
    return next(prefix + d for d in "0123456789" if passes_luhn(prefix + d))


cards = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(luhn_complete)
)
written = st.tuples(cards, st.sampled_from(["", " ", "-"]), st.sampled_from([4, 5, 6])).map(
    lambda c: c[1].join(c[0][i : i + c[2]] for i in range(0, len(c[0]), c[2]))
)
surroundings = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40).filter(
    lambda s: not s[-1:].isalnum() and s[-1:] not in "-_"
)


@settings(max_examples=300, deadline=None)
@given(before=surroundings, card=written, after=surroundings.map(lambda s: s[::-1]))
def test_no_card_number_survives_masking_whatever_surrounds_it(
    before: str, card: str, after: str
) -> None:
    masked = mask_secrets(f"{before}{card}{after}")
    assert card not in masked
    assert "".join(ch for ch in card if ch.isdigit()) not in masked.replace(" ", "").replace(
        "-", ""
    )


ADVERSARIAL = [
    "x" * 1_000_000,
    "1 " * 500_000,
    "12 " * 330_000,
    "4242-" * 200_000,
    "a@" * 500_000,
    "a." * 500_000,
    "://" * 330_000,
    "password=" * 110_000,
    "Bearer " * 140_000,
    "sk_live_" * 120_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:9]))
def test_masking_a_megabyte_takes_a_moment_not_hours(text: str) -> None:
    # Quadratic patterns took ~18 s on 40 KB, so hours on 1 MB; a linear pass takes well under
    # a second. The bound is generous so that a loaded machine never fails it.
    started = time.monotonic()
    redact_arguments([text])  # arguments are not cut: every masking pattern reads it all
    EMAIL.sub("", text)  # scrub_text's own pattern, on the whole text too
    assert time.monotonic() - started < 10

"""What a mail says: money in its currency, variables filled and escaped, nothing left blank."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest

from lineblocs_notifications.compose.money import money
from lineblocs_notifications.compose.render import TemplateFailed, environment, render
from lineblocs_notifications.delivery.email import OutgoingEmail
from lineblocs_notifications.kinds.catalog import BILLING_FAILED, KINDS, PAYMENT_RECEIPT, MailKind


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (4999, "CAD", "CA$49.99"),
        (4999, "usd", "$49.99"),
        (5, "USD", "$0.05"),
        (0, "EUR", "€0.00"),
        (123456789, "GBP", "£1,234,567.89"),
        (-250, "USD", "-$2.50"),
    ],
)
def test_money_is_shown_in_its_currency(cents: int, currency: str, shown: str) -> None:
    assert money(cents, currency) == shown


def test_a_currency_babel_does_not_know_is_shown_by_its_code() -> None:
    assert money(1050, "XYZ") == "XYZ10.50"


def failed_variables(**changes: Any) -> dict[str, Any]:
    return {
        "user": {"first_name": "Ada", "username": "ada"},
        "workspace": {"id": 3, "name": "Acme <b>Sales</b>"},
        "site_name": "Lineblocs",
        "reason": "your card was declined",
        "workspace_id": 3,
        "subscription_id": 9,
        "card_brand": "visa",
        "card_last_4": "4242",
        "amount": "$24.99",
        **changes,
    }


def test_html_escapes_what_a_customer_typed_and_text_shows_it_as_typed() -> None:
    rendered = render(BILLING_FAILED, failed_variables())
    assert "Acme &lt;b&gt;Sales&lt;/b&gt;" in rendered.html
    assert "<b>Sales</b>" not in rendered.html
    assert "Acme <b>Sales</b>" in rendered.text
    assert rendered.subject == "Your payment for Acme <b>Sales</b> failed"


def test_a_subject_never_spans_lines() -> None:
    rendered = render(BILLING_FAILED, failed_variables(workspace={"name": "A\r\nBcc: x@evil"}))
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject
    assert rendered.subject == "Your payment for A Bcc: x@evil failed"


def test_a_missing_variable_is_an_error_not_a_blank() -> None:
    variables = failed_variables()
    del variables["reason"]
    with pytest.raises(TemplateFailed, match="reason"):
        render(BILLING_FAILED, variables)


def test_a_kind_without_a_template_is_an_error() -> None:
    with pytest.raises(TemplateFailed, match="no_such_mail"):
        render(MailKind("no_such_mail", None, "Hi"), failed_variables())


def test_the_card_line_is_left_out_without_card_data() -> None:
    rendered = render(BILLING_FAILED, failed_variables(card_brand=None, card_last_4=None))
    assert "ending in" not in rendered.text
    assert "Reason: your card was declined." in rendered.text


def test_every_kind_has_both_parts_and_every_template_a_kind() -> None:
    templates = {name for name in environment().list_templates() if not name.startswith("_")}
    assert templates == {f"{kind}.{suffix}" for kind in KINDS for suffix in ("html", "txt")}


def test_the_wire_form_has_crlf_lines_within_smtp_limits_and_both_parts() -> None:
    rendered = render(
        PAYMENT_RECEIPT,
        {
            "user": {"first_name": "Zoë", "username": "zoe"},
            "workspace": {"name": "Ünïcödé " * 40},
            "site_name": "Lineblocs",
            "amount": "CA$24.99",
            "invoice_number": "M-7",
            "paid_with": "card",
            "timestamp": "2026-12-01 00:00 UTC",
        },
    )
    email = OutgoingEmail(
        sender="billing@example.test",
        to="zoe@example.test",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id="<abc@notifications.lineblocs-jobs>",
    )
    wire = email.wire_bytes()
    lines = wire.split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # no bare LF anywhere
    assert max(len(line) for line in lines) <= 998
    assert wire.isascii()  # non-ASCII goes encoded, whatever the server supports
    parsed = message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == rendered.subject  # non-ASCII encoded, and read back whole
    # Text travels in canonical form (CRLF line ends); the words are the rendered ones.
    text, html = (part.get_content().replace("\r\n", "\n") for part in parsed.iter_parts())
    assert (text, html) == (rendered.text, rendered.html)

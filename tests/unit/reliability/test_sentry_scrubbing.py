"""Nothing secret or personal leaves for Sentry: not in the event, not in its breadcrumbs."""

from __future__ import annotations

import json
import logging
from typing import Any

import sentry_sdk

from lineblocs_shared.reliability.observability.sentry import scrub_breadcrumb, scrub_event
from tests.support.sentry_capture import capturing_sentry

CARD = "4242424242424242"
SPACED_CARD = "5555 5555 5555 4444"
STRIPE_KEY = "sk_live_51HxAbCdEfGhIjKlMn"
RESTRICTED_KEY = "rk_test_abcdefgh12345678"
BEARER = "eyJhbGciOiJIUzI1NiJ9.cGF5bG9hZA.c2ln"
PASSWORD = "hunter2-is-not-a-password"
DB_PASSWORD = "s3cr3t-db-pw"
EMAIL = "alice.customer@example.com"
API_KEY = "k-9f8e7d6c5b4a"
CVC = "737"
SECRETS = (CARD, SPACED_CARD, STRIPE_KEY, RESTRICTED_KEY, BEARER, PASSWORD, DB_PASSWORD, EMAIL)


def crafted_event() -> dict[str, Any]:
    """A Sentry event with a secret planted in every part of it."""
    return {
        "message": f"charge of {EMAIL} with card {CARD} failed",
        "logentry": {"message": "charge %s", "params": [SPACED_CARD]},
        "exception": {
            "values": [
                {
                    "type": "CardError",
                    "value": f"card {CARD} declined for key {STRIPE_KEY}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "charge",
                                "vars": {
                                    "password": PASSWORD,
                                    "settings": f"Settings(database_url='mysql+pymysql://"
                                    f"jobs:{DB_PASSWORD}@db:3306/lineblocs')",
                                    "card": {"number": CARD, "cvc": CVC},
                                    "payload": f"{{'card_number': '{CARD}'}}",
                                    "amount": 4242424242424242,
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "log", "message": f"calling Stripe with {STRIPE_KEY}"},
                {"category": "http", "data": {"url": "https://api.stripe.com", "apiKey": API_KEY}},
                {"category": "auth", "data": {"Authorization": f"Bearer {BEARER}"}},
                {"category": "mail", "message": f"sent to {EMAIL}"},
            ]
        },
        "extra": {"customer": {"email": EMAIL}, "restricted": RESTRICTED_KEY},
        "contexts": {
            "billing": {"client_secret": "pi_123_secret_456", "note": f"login password={PASSWORD}"}
        },
        "request": {
            "url": f"https://jobs:{PASSWORD}@hooks.example.test/notify",
            "headers": {"Authorization": f"Bearer {BEARER}", "Cookie": "session=abc"},
            "data": {"password": PASSWORD, "card_number": CARD},
            "query_string": f"email={EMAIL}",
        },
        "tags": {"actor": "charge_invoice", "customer": EMAIL},
        "user": {"id": "42", "email": EMAIL, "ip_address": "203.0.113.9"},
    }


def test_every_planted_secret_is_removed_and_the_rest_kept() -> None:
    scrubbed = scrub_event(crafted_event(), {})
    text = json.dumps(scrubbed)
    for secret in (*SECRETS, API_KEY, "pi_123_secret_456", "203.0.113.9", "session=abc"):
        assert secret not in text, secret
    assert '"cvc"' not in json.dumps(scrubbed["exception"]["values"][0]["stacktrace"])
    assert scrubbed["tags"]["actor"] == "charge_invoice"
    assert scrubbed["user"]["id"] == "42"
    assert scrubbed["breadcrumbs"]["values"][1]["data"]["url"] == "https://api.stripe.com"
    assert scrubbed["exception"]["values"][0]["type"] == "CardError"


def test_breadcrumbs_are_scrubbed_on_their_own_too() -> None:
    crumb = {"message": f"user {EMAIL} paid with {CARD}", "data": {"token": "tok_visa"}}
    scrubbed = scrub_breadcrumb(crumb, {})
    assert EMAIL not in json.dumps(scrubbed)
    assert CARD not in json.dumps(scrubbed)
    assert "tok_visa" not in json.dumps(scrubbed)


def _charge(card_number: str, customer_email: str, stripe_key: str) -> None:
    settings_repr = f"mysql+pymysql://jobs:{DB_PASSWORD}@db:3306/lineblocs"
    raise RuntimeError(f"charge of {customer_email} failed on {card_number} ({settings_repr})")


def test_the_real_sdk_sends_only_scrubbed_events() -> None:
    with capturing_sentry() as capture:
        assert not sentry_sdk.get_client().should_send_default_pii()
        logging.getLogger("billing").warning("retrying %s for %s", CARD, EMAIL)
        sentry_sdk.add_breadcrumb(category="stripe", data={"password": PASSWORD, "k": STRIPE_KEY})
        sentry_sdk.set_user({"id": "7", "email": EMAIL})
        sentry_sdk.set_extra("restricted", RESTRICTED_KEY)
        sentry_sdk.set_context("gateway", {"auth": f"Bearer {BEARER}"})
        try:
            _charge(SPACED_CARD, EMAIL, STRIPE_KEY)
        except RuntimeError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.flush(timeout=5)
        events = capture.wait_for_events(1)

    assert capture.rejected == []
    assert len(events) == 1
    event = events[0]
    crumbs = event["breadcrumbs"]["values"]
    assert {crumb.get("category") for crumb in crumbs} >= {"billing", "stripe"}
    frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert set(frame_vars) >= {"card_number", "customer_email", "stripe_key"}
    text = json.dumps(event)
    for secret in SECRETS:
        assert secret not in text, secret
    assert event["user"]["id"] == "7"

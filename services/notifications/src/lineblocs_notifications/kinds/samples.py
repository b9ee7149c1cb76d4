"""Example variables of each kind, for `notifications preview` and the demo: what a real mail of
that kind carries (the recipient and workspace are read from the database)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "billing_failed": {
        "reason": "your card was declined",
        "workspace_id": 0,
        "subscription_id": 0,
        "card_brand": "visa",
        "card_last_4": "4242",
        "amount": "CA$24.99",
        "attempt": 1,
    },
    "payment_receipt": {
        "amount": "CA$24.99",
        "invoice_number": "INV-0000-00001",
        "paid_with": "card",
        "timestamp": "2026-12-01 00:00 UTC",
    },
    "workspace_account_suspended": {
        "invoice_number": "INV-0000-00001",
        "suspended_at": "2026-12-08 00:00 UTC",
    },
    "inactive_user": {"last_login": "2026-11-01", "days_inactive": 35},
    "usage_trigger": {
        "usage_trigger": {"id": 0, "percentage": 20},
        "credit_id": 0,
        "balance": "CA$9.50",
        "credit_amount": "CA$50.00",
        "threshold": "CA$10.00",
    },
    "free_trial_expiring": {
        "trial": "subscription",
        "subscription_id": 0,
        "trial_ends": "2026-12-09",
        "days_left": 3,
    },
    "card_expiring": {
        "card_id": 0,
        "card_brand": "visa",
        "ending_digits": "4242",
        "expires": "12/2026",
        "days": 26,
    },
    "customer_satisfaction_survey": {"survey_url": "https://example.com/survey"},
}

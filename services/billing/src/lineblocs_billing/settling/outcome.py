"""How settling a period ended, as the bill and retry handlers report it."""

from __future__ import annotations

from enum import StrEnum


class SettlingOutcome(StrEnum):
    PAID = "paid"  # charged now (or found charged at the gateway)
    PAID_FROM_CREDITS = "paid_from_credits"  # pay-as-you-go: nothing charged
    DECLINED = "declined"
    NO_CARD = "no_card"
    NOT_DUE = "not_due"  # failed, and its next dunning try is later
    NOTHING_TO_DO = "nothing_to_do"  # paid, nothing due, given up, or closed on the site

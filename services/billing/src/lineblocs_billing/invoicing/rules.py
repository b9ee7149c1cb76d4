"""The arithmetic of the billing rules as pure functions: no database, no clock.

Membership, usage, taxes and prepaid credits, as docs/billing-rules.md states them.

Every amount is integer cents and every rounding is half up, once per line (`round_half_up`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from lineblocs_billing.invoicing.periods import MONTHS_PER_CYCLE
from lineblocs_shared.db.types import round_half_up
from lineblocs_shared.models.billing import BillingCycle

SECONDS_PER_MINUTE = 60


class PayBy(StrEnum):
    """How an invoice is paid: by card, from prepaid credits, or not at all (total 0)."""

    CARD = "card"
    CREDITS = "credits"
    NONE = "none"

    @property
    def source(self) -> str:
        """As the site spells it in `users_invoices_payments.source` and receipts: CARD…"""
        return self.value.upper()


@dataclass(frozen=True)
class TaxLine:
    name: str
    percentage: Decimal
    cents: int

    def as_metadata(self) -> dict[str, object]:
        # float: the site decodes tax_metadata as JSON numbers.
        return {"name": self.name, "percentage": float(self.percentage), "cents": self.cents}


@dataclass(frozen=True)
class Collection:
    """How an invoice will be collected, decided when it is written."""

    pay_by: PayBy
    amount_to_charge: int
    balance_cents: int | None  # PAYG only: the balance after this period's membership + taxes


def ratio_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half up, exactly (integers, denominator > 0)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return round_half_up(Decimal(numerator) / Decimal(denominator))


def cycle_multiplier(cycle: BillingCycle) -> int:
    """Allowances and number rentals are monthly: an annual period counts twelve of them."""
    return MONTHS_PER_CYCLE[cycle]


def call_allowance_seconds(minutes_per_month: int, cycle: BillingCycle) -> int:
    return max(minutes_per_month, 0) * SECONDS_PER_MINUTE * cycle_multiplier(cycle)


def billable_start(
    *,
    start: datetime,
    subscription_created_at: datetime | None,
    free_trial_active: bool,
    free_trial_end: datetime | None,
) -> datetime:
    """max(start, created_at, trial end) — the trial end only while the trial flag is on."""
    candidates = [start]
    if subscription_created_at is not None:
        candidates.append(subscription_created_at)
    if free_trial_active and free_trial_end is not None:
        candidates.append(free_trial_end)
    return max(candidates)


def membership_cents(
    *, seats: int, price_cents: int, start: datetime, end: datetime, billable_from: datetime
) -> int:
    """seats * price * (end - billable start) / (end - start), in whole seconds, half up."""
    if billable_from >= end:
        return 0
    period_seconds = int((end - start).total_seconds())
    billable_seconds = int((end - billable_from).total_seconds())
    if period_seconds <= 0:
        return 0
    return ratio_half_up(seats * price_cents * billable_seconds, period_seconds)


def call_charge(*, cents: int, duration: int, remaining: int) -> tuple[int, int]:
    """One call against the allowance: (charge, remaining afterwards).

    The reference implementation of what the SQL window computes (`usage.py`), kept for the
    property tests that compare the two.
    """
    duration = max(duration, 0)
    if duration == 0:
        return (cents if remaining <= 0 else 0), remaining
    covered = min(max(remaining, 0), duration)
    over = duration - covered
    return ratio_half_up(cents * over, duration), remaining - covered


def tax_cents(subtotal: int, percentage: Decimal) -> int:
    return round_half_up(Decimal(subtotal) * percentage / 100)


def collect_card_plan(total: int) -> Collection:
    if total <= 0:
        return Collection(PayBy.NONE, 0, None)
    return Collection(PayBy.CARD, total, None)


def collect_pay_as_you_go(
    *, total: int, balance_before_end: int, membership_and_taxes: int
) -> Collection:
    """Usage was drawn from credits when recorded; only membership + taxes are new debits.

    balance = credits - debits before the period end - this period's membership + taxes:
    ≥ 0 → paid from credits; < 0 → the card pays the shortfall, at most the total.
    """
    balance = balance_before_end - membership_and_taxes
    if total <= 0:
        return Collection(PayBy.NONE, 0, balance)
    if balance >= 0:
        return Collection(PayBy.CREDITS, 0, balance)
    return Collection(PayBy.CARD, min(total, -balance), balance)

"""The pure arithmetic of invoices: prorations, taxes, settling, rounding.

Rules R-MEMBER-3, R-USAGE-2, R-TAX-2 and R-PAYG-3 (docs/billing-rules.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lineblocs_billing.invoicing.rules import (
    PayBy,
    billable_start,
    call_allowance_seconds,
    call_charge,
    collect_card_plan,
    collect_pay_as_you_go,
    membership_cents,
    ratio_half_up,
    tax_cents,
)
from lineblocs_shared.models.billing import BillingCycle

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 2, 1), (5, 2, 3), (3, 2, 2), (49, 100, 0), (2999999, 3000000, 1), (-1, 2, -1), (0, 7, 0)],
)
def test_ratios_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert ratio_half_up(numerator, denominator) == expected


def test_a_full_period_pays_the_full_price_per_seat() -> None:
    assert (
        membership_cents(seats=3, price_cents=2499, start=START, end=END, billable_from=START)
        == 7497
    )


def test_membership_is_prorated_by_the_second() -> None:
    one_day_left = END - timedelta(days=1)
    assert (
        membership_cents(
            seats=1, price_cents=3100, start=START, end=END, billable_from=one_day_left
        )
        == 100
    )


def test_nothing_is_billable_from_the_period_end_on() -> None:
    assert membership_cents(seats=2, price_cents=2499, start=START, end=END, billable_from=END) == 0


def test_the_billable_start_is_the_latest_of_period_creation_and_active_trial() -> None:
    created, trial = START + timedelta(days=2), START + timedelta(days=9)
    kwargs = {"start": START, "subscription_created_at": created, "free_trial_end": trial}
    assert billable_start(free_trial_active=True, **kwargs) == trial
    assert billable_start(free_trial_active=False, **kwargs) == created
    assert (
        billable_start(
            start=START, subscription_created_at=None, free_trial_active=True, free_trial_end=None
        )
        == START
    )


def test_the_allowance_is_monthly_minutes_in_seconds_and_twelve_months_a_year() -> None:
    assert call_allowance_seconds(200, BillingCycle.MONTHLY) == 12_000
    assert call_allowance_seconds(200, BillingCycle.ANNUAL) == 144_000


@pytest.mark.parametrize(
    ("cents", "duration", "remaining", "expected"),
    [
        (600, 60, 60, (0, 0)),  # exactly the allowance
        (610, 61, 60, (10, 0)),  # one second over
        (50, 0, 0, (50, 0)),  # zero-length call, nothing remains
        (50, 0, 1, (0, 1)),  # zero-length call, allowance left
        (999, 30, 0, (999, 0)),  # nothing remains: full price
        (3, 120, 60, (2, 0)),  # 1.5 -> 2
    ],
)
def test_a_call_against_the_allowance(
    cents: int, duration: int, remaining: int, expected: tuple[int, int]
) -> None:
    assert call_charge(cents=cents, duration=duration, remaining=remaining) == expected


@pytest.mark.parametrize(
    ("subtotal", "percentage", "expected"),
    [
        (2450, "13", 319),
        (2450, "5", 123),
        (1000, "14.975", 150),
        (2000, "14.975", 300),
        (0, "13", 0),
    ],
)
def test_taxes_round_half_up(subtotal: int, percentage: str, expected: int) -> None:
    assert tax_cents(subtotal, Decimal(percentage)) == expected


def test_a_card_plan_charges_its_total_or_settles_nothing_at_zero() -> None:
    assert collect_card_plan(2499).pay_by is PayBy.CARD
    assert collect_card_plan(2499).amount_to_charge == 2499
    assert collect_card_plan(0).pay_by is PayBy.NONE


@pytest.mark.parametrize(
    ("balance", "membership_and_taxes", "pay_by", "charge"),
    [
        (1000, 1000, PayBy.CREDITS, 0),
        (1000, 0, PayBy.CREDITS, 0),
        (500, 600, PayBy.CARD, 100),
        (-9000, 0, PayBy.CARD, 300),
    ],
)
def test_pay_as_you_go_settles_from_credits_or_charges_the_shortfall(
    balance: int, membership_and_taxes: int, pay_by: PayBy, charge: int
) -> None:
    result = collect_pay_as_you_go(
        total=300, balance_before_end=balance, membership_and_taxes=membership_and_taxes
    )
    assert (result.pay_by, result.amount_to_charge) == (pay_by, charge)
    assert result.balance_cents == balance - membership_and_taxes

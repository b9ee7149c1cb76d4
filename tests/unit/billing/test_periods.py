"""Billing periods (R-PERIOD-2 to R-PERIOD-7): calendar arithmetic, month ends, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lineblocs_billing.invoicing.periods import (
    default_period_end,
    due_periods,
    first_due_period,
    period_ending,
    period_holding,
    shift_months,
)
from lineblocs_shared.models.billing import BillingCycle

M, A = BillingCycle.MONTHLY, BillingCycle.ANNUAL


def at(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.mark.parametrize(
    ("end", "start"),
    [
        (at(2026, 3, 31), at(2026, 2, 28)),  # Mar 31 - 1 month = Feb 28
        (at(2028, 3, 31), at(2028, 2, 29)),  # ... or Feb 29 in a leap year
        (at(2026, 1, 1), at(2025, 12, 1)),  # across a year
        (at(2026, 5, 15, 9), at(2026, 4, 15, 9)),  # time of day kept
    ],
)
def test_a_monthly_period_starts_one_calendar_month_before_it_ends(
    end: datetime, start: datetime
) -> None:
    assert period_ending(end, cycle=M).start == start


def test_an_annual_period_from_a_leap_day() -> None:
    period = period_ending(at(2029, 2, 28), cycle=A, anchor_day=29)
    assert period.start == at(2028, 2, 29)
    assert period.following().end == at(2030, 2, 28)


def test_a_month_end_anniversary_does_not_drift_to_the_28th() -> None:
    period = period_ending(at(2026, 1, 31), cycle=M, anchor_day=31)
    ends = []
    for _ in range(5):
        period = period.following()
        ends.append(period.end.date().isoformat())
    assert ends == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"]


def test_a_calendar_flow_subscription_stays_on_the_first_whatever_its_signup_day() -> None:
    # The site bills calendar-flow signups on the 1st with billing_anchor_day = the signup day.
    period = first_due_period(
        next_billing_date=at(2026, 11, 1), cycle=M, anchor_day=23, now=at(2026, 11, 2)
    )
    assert (period.start, period.end) == (at(2026, 10, 1), at(2026, 11, 1))
    assert period.following().end == at(2026, 12, 1)


def test_an_anchor_restores_the_day_after_a_clamped_month_end() -> None:
    period = first_due_period(
        next_billing_date=at(2026, 2, 28), cycle=M, anchor_day=30, now=at(2026, 3, 1)
    )
    assert period.start == at(2026, 1, 30)
    assert period.following().end == at(2026, 3, 30)


def test_consecutive_periods_touch() -> None:
    period = period_ending(at(2026, 1, 31), cycle=M, anchor_day=31)
    for _ in range(14):
        nxt = period.following()
        assert nxt.start == period.end
        period = nxt


def test_the_interval_is_half_open() -> None:
    period = period_ending(at(2026, 3, 1), cycle=M)
    assert period.contains(at(2026, 2, 1))
    assert not period.contains(at(2026, 3, 1))  # a row created exactly at end is next period's


def test_without_next_billing_date_the_period_ends_at_the_current_month_or_year() -> None:
    now = at(2026, 11, 23, 14)
    assert default_period_end(now, M) == at(2026, 11, 1)
    assert default_period_end(now, A) == at(2026, 1, 1)
    period = first_due_period(next_billing_date=None, cycle=M, anchor_day=None, now=now)
    assert (period.start, period.end) == (at(2026, 10, 1), at(2026, 11, 1))


def test_catch_up_yields_every_missed_period_oldest_first() -> None:
    first = first_due_period(
        next_billing_date=at(2026, 8, 1), cycle=M, anchor_day=1, now=at(2026, 11, 2)
    )
    assert [p.end for p in due_periods(first, now=at(2026, 11, 2))] == [
        at(2026, 8, 1),
        at(2026, 9, 1),
        at(2026, 10, 1),
        at(2026, 11, 1),
    ]


def test_a_period_not_yet_ended_is_not_due() -> None:
    first = first_due_period(
        next_billing_date=at(2026, 12, 1), cycle=M, anchor_day=1, now=at(2026, 11, 30, 23)
    )
    assert list(due_periods(first, now=at(2026, 11, 30, 23))) == []


def test_a_corrupt_anchor_day_falls_back_to_the_end_day() -> None:
    period = first_due_period(
        next_billing_date=at(2026, 3, 15), cycle=M, anchor_day=0, now=at(2026, 3, 16)
    )
    assert period.anchor_day == 15


def test_shift_months_clamps_to_the_month_length() -> None:
    assert shift_months(at(2026, 1, 31), 1, 31) == at(2026, 2, 28)
    assert shift_months(at(2026, 2, 28), 1, 31) == at(2026, 3, 31)
    assert shift_months(at(2026, 12, 15), 1, 15) == at(2027, 1, 15)
    assert shift_months(at(2026, 1, 15), -13, 15) == at(2024, 12, 15)


def test_the_period_holding_a_day_walks_the_series_back_and_forth_keeping_the_31st() -> None:
    current = period_ending(at(2026, 4, 30, 9), cycle=M, anchor_day=31)  # Mar 31 -> Apr 30

    back = period_holding(current, date(2026, 2, 28))
    forth = period_holding(current, date(2026, 8, 31))
    mid = period_holding(current, date(2026, 3, 15))

    assert back == period_ending(at(2026, 3, 31, 9), cycle=M, anchor_day=31)
    assert forth == period_ending(at(2026, 9, 30, 9), cycle=M, anchor_day=31)
    assert back is not None
    assert (back.start, back.end) == (at(2026, 2, 28, 9), at(2026, 3, 31, 9))
    assert mid == back  # the 15th is no boundary: it lies in the period from Feb 28
    assert period_holding(current, date(1990, 1, 1)) is None  # beyond 240 cycles

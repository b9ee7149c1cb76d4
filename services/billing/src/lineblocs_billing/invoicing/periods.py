"""Billing periods: which half-open interval [start, end) a subscription is billed for.

Billing rules R-PERIOD-2 and R-PERIOD-3 (docs/billing-rules.md): the period ends at
`next_billing_date` (else the first instant of the current calendar month or year) and starts one
cycle earlier, by calendar arithmetic with the day clamped to the month's length. Our decision where
the rules are silent (docs/billing.md): a period's day of month is the day it ends — except when
that end was clamped to a month's last day, where the subscription's `billing_anchor_day` is the
true day. So a subscription anchored on the 31st ends on Jan 31, Feb 28, Mar 31, Apr 30 (no drift to
the 28th after February), one billed on the 1st by the site's calendar flow stays on the 1st
whatever its signup day, and consecutive periods always touch."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from lineblocs_shared.models.billing import BillingCycle

MONTHS_PER_CYCLE = {BillingCycle.MONTHLY: 1, BillingCycle.ANNUAL: 12}


@dataclass(frozen=True, order=True)
class BillingPeriod:
    start: datetime
    end: datetime
    cycle: BillingCycle
    anchor_day: int

    @property
    def key_date(self) -> str:
        """The period start as the site's dedup keys spell it (Y-m-d)."""
        return self.start.strftime("%Y-%m-%d")

    def following(self) -> BillingPeriod:
        return period_ending(
            shift_months(self.end, MONTHS_PER_CYCLE[self.cycle], self.anchor_day),
            cycle=self.cycle,
            anchor_day=self.anchor_day,
        )

    def preceding(self) -> BillingPeriod:
        return period_ending(self.start, cycle=self.cycle, anchor_day=self.anchor_day)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def shift_months(moment: datetime, months: int, anchor_day: int) -> datetime:
    """`moment` moved by whole months, landing on the anchor day clamped to the month length."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def effective_anchor(end: datetime, anchor_day: int | None) -> int:
    """The day of month of the period ending at `end` (see the module docstring)."""
    last_day = calendar.monthrange(end.year, end.month)[1]
    if anchor_day is not None and end.day == last_day and anchor_day > end.day:
        return anchor_day
    return end.day


def period_ending(
    end: datetime, *, cycle: BillingCycle, anchor_day: int | None = None
) -> BillingPeriod:
    """The period that ends at `end`."""
    anchor = effective_anchor(end, anchor_day)
    start = shift_months(end, -MONTHS_PER_CYCLE[cycle], anchor)
    return BillingPeriod(start=start, end=end, cycle=cycle, anchor_day=anchor)


def default_period_end(now: datetime, cycle: BillingCycle) -> datetime:
    """No `next_billing_date`: the first instant of the current calendar month (or year)."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.replace(month=1) if cycle is BillingCycle.ANNUAL else first


def first_due_period(
    *,
    next_billing_date: datetime | None,
    cycle: BillingCycle,
    anchor_day: int | None,
    now: datetime,
) -> BillingPeriod:
    """The subscription's next period to bill (it may still be running: check `end <= now`)."""
    end = next_billing_date or default_period_end(now, cycle)
    if anchor_day is not None and not 1 <= anchor_day <= 31:
        anchor_day = None  # a corrupt anchor must not move money to a different day
    return period_ending(end, cycle=cycle, anchor_day=anchor_day)


class BillingSeries(Protocol):
    """What says which periods a subscription owes: the ORM row, the terms billing reads of it,
    or the distributor's scan of it."""

    @property
    def billing_cycle(self) -> BillingCycle: ...

    @property
    def billing_anchor_day(self) -> int | None: ...

    @property
    def next_billing_date(self) -> datetime | None: ...


def anchor_day_of(series: BillingSeries) -> int | None:
    """The subscription's anchor day, or None when unset or corrupt (outside 1-31)."""
    anchor = series.billing_anchor_day
    return anchor if anchor is not None and 1 <= anchor <= 31 else None


def next_due_period(series: BillingSeries, *, now: datetime) -> BillingPeriod:
    """The subscription's next period to bill — the one place that says so (the distributor,
    the bill handler's catch-up, invoicing and the preview all ask here)."""
    return first_due_period(
        next_billing_date=series.next_billing_date,
        cycle=BillingCycle(series.billing_cycle),
        anchor_day=anchor_day_of(series),
        now=now,
    )


def period_of(series: BillingSeries, *, start: datetime, end: datetime) -> BillingPeriod:
    """The subscription's period [start, end), with its anchor day (for the period after it)."""
    return BillingPeriod(
        start=start,
        end=end,
        cycle=BillingCycle(series.billing_cycle),
        anchor_day=anchor_day_of(series) or end.day,
    )


def due_periods(
    first: BillingPeriod, *, now: datetime, limit: int = 240
) -> Iterator[BillingPeriod]:
    """Every period from `first` whose end has passed, oldest first (catch-up), at most `limit`."""
    period = first
    for _ in range(limit):
        if period.end > now:
            return
        yield period
        period = period.following()


def period_holding(period: BillingPeriod, day: date, *, limit: int = 240) -> BillingPeriod | None:
    """The period of `period`'s series (walked back or forth, at most `limit` cycles) whose
    dates hold `day`: `day` is a boundary of the series only if that period starts on it."""
    for _ in range(limit):
        if day < period.start.date():
            period = period.preceding()
        elif day >= period.end.date():
            period = period.following()
        else:
            return period
    return None

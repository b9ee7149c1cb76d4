"""The distributor's pure parts: message ids, messages, due periods, the report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from lineblocs_billing.distribution.distributor import (
    DistributionReport,
    DueBill,
    bill_message_id,
    periods_due,
)
from lineblocs_billing.distribution.scan import BillableSubscription
from lineblocs_billing.handlers import DistributionIncomplete
from lineblocs_billing.invoicing.periods import period_ending
from lineblocs_shared.contracts import BILL_SUBSCRIPTION
from lineblocs_shared.models.billing import BillingCycle
from lineblocs_shared.queue.bulk import PublishFailure

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def utc(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def subscription(
    next_billing_date: datetime | None, *, cycle: BillingCycle = BillingCycle.MONTHLY
) -> BillableSubscription:
    return BillableSubscription(
        id=7,
        workspace_id=70,
        billing_cycle=cycle,
        next_billing_date=next_billing_date,
        billing_anchor_day=None,
    )


def test_a_bill_message_id_is_the_same_for_the_same_subscription_and_period() -> None:
    assert bill_message_id(7, utc(2026, 10, 15)) == bill_message_id(7, utc(2026, 10, 15))
    assert uuid.UUID(bill_message_id(7, utc(2026, 10, 15))).version == 5


@pytest.mark.parametrize(
    ("subscription_id", "start"),
    [(8, utc(2026, 10, 15)), (7, utc(2026, 9, 15)), (7, datetime(2026, 10, 15, 1, tzinfo=UTC))],
)
def test_a_bill_message_id_differs_for_another_subscription_or_period(
    subscription_id: int, start: datetime
) -> None:
    assert bill_message_id(subscription_id, start) != bill_message_id(7, utc(2026, 10, 15))


def test_a_due_bill_is_a_bill_subscription_message_with_its_deterministic_id() -> None:
    period = period_ending(utc(2026, 11, 15), cycle=BillingCycle.MONTHLY)
    bill = DueBill(subscription_id=7, workspace_id=70, period=period)

    message = bill.message()

    assert (message.queue_name, message.actor_name) == ("billing", "bill_subscription")
    assert message.message_id == bill_message_id(7, utc(2026, 10, 15))
    payload = BILL_SUBSCRIPTION.parse(message.kwargs)
    assert (payload.subscription_id, payload.period_start, payload.period_end) == (
        7,
        utc(2026, 10, 15),
        utc(2026, 11, 15),
    )
    assert bill.key == ("MONTHLY", 70, utc(2026, 10, 15))


def test_periods_due_catch_up_oldest_first_and_stop_at_a_running_period() -> None:
    ends = [p.end for p in periods_due(subscription(utc(2026, 9, 23)), now=NOW)]

    assert ends == [utc(2026, 9, 23), utc(2026, 10, 23), utc(2026, 11, 23)]


def test_no_period_is_due_before_the_period_ends() -> None:
    assert periods_due(subscription(datetime(2026, 11, 23, 12, 0, 1, tzinfo=UTC)), now=NOW) == []


def test_an_annual_subscription_without_date_owes_last_calendar_year() -> None:
    [period] = periods_due(subscription(None, cycle=BillingCycle.ANNUAL), now=NOW)

    assert (period.start, period.end) == (utc(2025, 1, 1), utc(2026, 1, 1))


def test_the_summary_line_of_a_run_with_failures() -> None:
    report = DistributionReport(now=NOW, scanned=10, due=12, settled=1, enqueued=9)
    report.failed = [PublishFailure("m-1", "nacked by RabbitMQ"), PublishFailure("m-2", "x")]
    report.elapsed_s = 0.5

    assert report.line() == (
        "10 subscriptions scanned, 12 periods due, 1 already settled, "
        "9 enqueued, 2 failed in 0.50s (18/s)"
    )
    assert report.summary()["failed"] == 2


def test_an_incomplete_distribution_names_its_first_failure() -> None:
    report = DistributionReport(now=NOW, scanned=1, due=1, failed=[PublishFailure("m-1", "lost")])

    error = DistributionIncomplete(report)

    assert "1 bill message(s) not confirmed by the broker (first: m-1: lost)" in str(error)
    assert error.report is report

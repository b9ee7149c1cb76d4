"""The distributor on MariaDB and SQLite: who is billed, for which periods, and how often.

Publishing is faked by `RecordingMessagePublisher` (a transport, tested with RabbitMQ
elsewhere); the database is real.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, delete
from sqlmodel import col

from lineblocs_billing.distribution.distributor import Distributor, bill_message_id, distribute
from lineblocs_billing.distribution.scan import billable_pages
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.contracts import BILL_SUBSCRIPTION
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Subscription
from lineblocs_shared.models.billing_runs import PeriodState
from lineblocs_shared.queue.bulk import BulkResult, RecordingMessagePublisher
from tests.integration.billing.distributor.conftest import NOW, StatementLog, Tenants

pytestmark = pytest.mark.integration


def utc(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def distributor(engine: Engine, publisher: Any = None, *, page_size: int = 1000) -> Distributor:
    return Distributor(
        engine=engine,
        clock=FixedClock(NOW),
        publisher=publisher or RecordingMessagePublisher(),
        page_size=page_size,
    )


def bills(publisher: RecordingMessagePublisher) -> list[tuple[int, datetime, datetime]]:
    """(subscription id, period start, period end) of each published message, in order."""
    out = []
    for message in publisher.published:
        payload = BILL_SUBSCRIPTION.parse(message.kwargs)
        out.append((payload.subscription_id, payload.period_start, payload.period_end))
    return out


class RefusingPublisher:
    """A dry run must not publish: calling this fails the test."""

    def publish(self, messages: Any) -> BulkResult:
        raise AssertionError("published during a dry run")


def test_keyset_pages_cover_every_row_across_gaps_in_ids(
    billing_engine: Engine, tenants: Tenants, statements: StatementLog
) -> None:
    ids = [3, 4, 10, 11, 12, 40, 41]
    for sub_id in ids:
        tenants.subscription(id=sub_id)
    with billing_engine.connect():
        pass  # warm the pool: first-connect queries are not the distributor's

    statements.recording = True
    pages = list(billable_pages(billing_engine, now=NOW, page_size=2))
    statements.recording = False

    assert [[s.id for s in page] for page in pages] == [[3, 4], [10, 11], [12, 40], [41]]
    assert len(statements.selecting("subscriptions")) == 4  # a short page ends the scan


def test_the_distributor_runs_one_query_per_page_and_none_per_subscription(
    billing_engine: Engine, tenants: Tenants, statements: StatementLog
) -> None:
    subs = [tenants.subscription() for _ in range(7)]
    # The last page's subscription's period is settled: that page alone costs one more query.
    tenants.period_row(
        subs[-1], start=utc(2026, 10, 15), end=utc(2026, 11, 15), state=PeriodState.PAID
    )
    publisher = RecordingMessagePublisher()
    with billing_engine.connect():
        pass

    statements.recording = True
    report = distribute(distributor(billing_engine, publisher, page_size=2))
    statements.recording = False

    assert (report.enqueued, report.settled) == (6, 1)
    assert len(statements.selecting("subscriptions")) == 4
    assert len(statements.selecting("lbj_billing_periods")) == 1
    assert len(statements.queries) == 5  # nothing else: no query per subscription


def test_only_active_subscriptions_of_active_workspaces_whose_period_ended_are_billed(
    billing_engine: Engine, tenants: Tenants
) -> None:
    due = tenants.subscription()
    ends_now = tenants.subscription(next_billing_date=NOW, billing_anchor_day=23)
    tenants.subscription(workspace_active=False)
    tenants.subscription(status="CANCELLED")
    tenants.subscription(status="INACTIVE")
    tenants.subscription(next_billing_date=utc(2026, 12, 15))  # period still running
    publisher = RecordingMessagePublisher()

    report = distribute(distributor(billing_engine, publisher))

    assert bills(publisher) == [
        (due.id, utc(2026, 10, 15), utc(2026, 11, 15)),
        (ends_now.id, datetime(2026, 10, 23, 12, tzinfo=UTC), NOW),  # end <= now: due
    ]
    assert (report.scanned, report.due, report.enqueued, report.failed) == (2, 2, 2, [])


@pytest.mark.parametrize(
    ("cycle", "start", "end"),
    [
        (BillingCycle.MONTHLY, utc(2026, 10, 1), utc(2026, 11, 1)),
        (BillingCycle.ANNUAL, utc(2025, 1, 1), utc(2026, 1, 1)),
    ],
)
def test_without_next_billing_date_the_period_ends_at_the_start_of_the_month_or_year(
    billing_engine: Engine, tenants: Tenants, cycle: BillingCycle, start: datetime, end: datetime
) -> None:
    sub = tenants.subscription(next_billing_date=None, billing_anchor_day=None, billing_cycle=cycle)
    publisher = RecordingMessagePublisher()

    distribute(distributor(billing_engine, publisher))

    assert bills(publisher) == [(sub.id, start, end)]


def test_three_missed_periods_are_three_messages_oldest_first(
    billing_engine: Engine, tenants: Tenants
) -> None:
    sub = tenants.subscription(next_billing_date=utc(2026, 9, 23), billing_anchor_day=23)
    publisher = RecordingMessagePublisher()

    report = distribute(distributor(billing_engine, publisher))

    assert bills(publisher) == [
        (sub.id, utc(2026, 8, 23), utc(2026, 9, 23)),
        (sub.id, utc(2026, 9, 23), utc(2026, 10, 23)),
        (sub.id, utc(2026, 10, 23), utc(2026, 11, 23)),
    ]
    assert (report.scanned, report.due, report.enqueued) == (1, 3, 3)


def test_a_month_end_anchor_bills_the_short_month_and_returns_to_the_31st(
    billing_engine: Engine, tenants: Tenants
) -> None:
    sub = tenants.subscription(next_billing_date=utc(2026, 1, 31), billing_anchor_day=31)
    publisher = RecordingMessagePublisher()

    distribute(
        Distributor(engine=billing_engine, clock=FixedClock(utc(2026, 4, 1)), publisher=publisher)
    )

    assert bills(publisher) == [
        (sub.id, utc(2025, 12, 31), utc(2026, 1, 31)),
        (sub.id, utc(2026, 1, 31), utc(2026, 2, 28)),
        (sub.id, utc(2026, 2, 28), utc(2026, 3, 31)),
    ]


def test_a_rerun_publishes_the_same_message_ids_and_skips_settled_periods(
    billing_engine: Engine, tenants: Tenants
) -> None:
    paid = tenants.subscription()
    unsettled = tenants.subscription()
    catching_up = tenants.subscription(next_billing_date=utc(2026, 10, 15))
    first = RecordingMessagePublisher()
    distribute(distributor(billing_engine, first))

    tenants.period_row(paid, start=utc(2026, 10, 15), end=utc(2026, 11, 15), state=PeriodState.PAID)
    # Invoiced but never settled: a bill message resumes it, so it is enqueued again.
    tenants.period_row(
        unsettled, start=utc(2026, 10, 15), end=utc(2026, 11, 15), state=PeriodState.INVOICED
    )
    tenants.period_row(
        catching_up, start=utc(2026, 9, 15), end=utc(2026, 10, 15), state=PeriodState.FAILED
    )
    second = RecordingMessagePublisher()
    report = distribute(distributor(billing_engine, second))

    first_ids = {m.message_id: m.kwargs for m in first.published}
    second_ids = {m.message_id: m.kwargs for m in second.published}
    assert len(first_ids) == 4
    assert second_ids.items() <= first_ids.items()  # same ids, same payloads
    assert bills(second) == [
        (unsettled.id, utc(2026, 10, 15), utc(2026, 11, 15)),
        (catching_up.id, utc(2026, 10, 15), utc(2026, 11, 15)),
    ]
    assert next(iter(second_ids)) == bill_message_id(unsettled.id, utc(2026, 10, 15))
    assert (report.due, report.settled, report.enqueued) == (4, 2, 2)


def test_a_settled_period_of_another_subscription_of_the_workspace_is_skipped(
    billing_engine: Engine, tenants: Tenants
) -> None:
    """The invoice is unique per workspace and period (R-INVOICE-1), whatever the subscription."""
    old = tenants.subscription()
    tenants.period_row(old, start=utc(2026, 10, 15), end=utc(2026, 11, 15), state=PeriodState.PAID)
    with UnitOfWork(billing_engine) as uow:
        uow.session.execute(delete(Subscription).where(col(Subscription.id) == old.id))
        uow.session.add(
            Subscription(
                workspace_id=old.workspace_id,
                current_plan_id=old.current_plan_id,
                billing_cycle=BillingCycle.MONTHLY,
                current_period_end=utc(2026, 11, 15),
                next_billing_date=utc(2026, 11, 15),
                billing_anchor_day=15,
            )
        )
        uow.commit()
    publisher = RecordingMessagePublisher()

    report = distribute(distributor(billing_engine, publisher))

    assert publisher.published == []
    assert (report.due, report.settled) == (1, 1)


def test_a_dry_run_publishes_nothing_and_shows_what_it_would_enqueue(
    billing_engine: Engine, tenants: Tenants
) -> None:
    subs = [tenants.subscription() for _ in range(12)]

    report = distribute(distributor(billing_engine, RefusingPublisher()), dry_run=True)

    assert (report.dry_run, report.due, report.to_enqueue, report.enqueued) == (True, 12, 12, 0)
    assert [b.subscription_id for b in report.sample] == [s.id for s in subs[:10]]
    assert "12 would be enqueued (dry run)" in report.line()


def test_failed_publishes_are_counted_and_reported_never_dropped(
    billing_engine: Engine, tenants: Tenants
) -> None:
    subs = [tenants.subscription() for _ in range(3)]
    refused = bill_message_id(subs[1].id, utc(2026, 10, 15))

    def refuse(message: dramatiq.Message[Any]) -> str | None:
        return "nacked by RabbitMQ" if message.message_id == refused else None

    report = distribute(distributor(billing_engine, RecordingMessagePublisher(refuse)))

    assert report.enqueued == 2
    assert [(f.message_id, f.reason) for f in report.failed] == [(refused, "nacked by RabbitMQ")]
    assert "2 enqueued, 1 failed" in report.line()

"""Which period gets written, and how often: outcomes, catch-up, month ends, concurrency."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlmodel import col

from lineblocs_billing.invoicing.invoice_period import InvoicingOutcome, OutcomeKind, invoice_period
from lineblocs_billing.invoicing.periods import BillingPeriod, due_periods, first_due_period
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Debit, Invoice, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord
from lineblocs_shared.site_settings.reader import SiteSettings
from tests.factories import make_subscription
from tests.integration.billing.invoicing.scenario import (
    NOW,
    PERIOD,
    Tenant,
    add_did,
    bill,
    make_tenant,
)

pytestmark = pytest.mark.integration


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def invoice_keys(engine: Engine, tenant: Tenant) -> list[str | None]:
    with UnitOfWork(engine) as uow:
        stmt = select(col(Invoice.deduplication_key)).where(
            col(Invoice.workspace_id) == tenant.workspace_id
        )
        return list(uow.session.execute(stmt.order_by(col(Invoice.id))).scalars())


def count(engine: Engine, model: type, **where: object) -> int:
    with UnitOfWork(engine) as uow:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int(uow.session.execute(stmt).scalar_one())


def due_now(engine: Engine, tenant: Tenant, now: datetime) -> list[BillingPeriod]:
    with UnitOfWork(engine) as uow:
        sub = uow.subscriptions.get(subscription_id=tenant.subscription_id)
        assert sub is not None
        first = first_due_period(
            next_billing_date=sub.next_billing_date,
            cycle=BillingCycle(sub.billing_cycle),
            anchor_day=sub.billing_anchor_day,
            now=now,
        )
    return list(due_periods(first, now=now))


def test_three_missed_periods_are_caught_up_oldest_first(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription={"next_billing_date": at(2026, 9, 1)})
        uow.commit()
    periods = due_now(jobs_engine, tenant, NOW)
    assert [p.start for p in periods] == [at(2026, 8, 1), at(2026, 9, 1), at(2026, 10, 1)]
    newest_first = bill(jobs_engine, tenant, period=periods[-1])
    assert (newest_first.kind, newest_first.due_start) == (
        OutcomeKind.EARLIER_PERIOD_DUE,
        at(2026, 8, 1),
    )
    assert [bill(jobs_engine, tenant, period=p).kind for p in periods] == [OutcomeKind.WRITTEN] * 3
    ws = tenant.workspace_id
    assert invoice_keys(jobs_engine, tenant) == [
        f"MONTHLY:{ws}:2026-08-01",
        f"MONTHLY:{ws}:2026-09-01",
        f"MONTHLY:{ws}:2026-10-01",
    ]
    assert due_now(jobs_engine, tenant, NOW) == []


def test_a_month_end_anniversary_keeps_its_day(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        subscription = {"next_billing_date": at(2026, 10, 31), "billing_anchor_day": 31}
        tenant = make_tenant(uow, subscription=subscription)
        uow.commit()
    later = at(2027, 1, 5)
    periods = due_now(jobs_engine, tenant, later)
    assert [(p.start, p.end) for p in periods] == [
        (at(2026, 9, 30), at(2026, 10, 31)),
        (at(2026, 10, 31), at(2026, 11, 30)),
        (at(2026, 11, 30), at(2026, 12, 31)),
    ]
    for period in periods:
        assert bill(jobs_engine, tenant, period=period, now=later).kind is OutcomeKind.WRITTEN
    ws = tenant.workspace_id
    assert invoice_keys(jobs_engine, tenant)[-1] == f"MONTHLY:{ws}:2026-11-30"
    assert [p.start for p in due_now(jobs_engine, tenant, at(2027, 2, 1))] == [at(2026, 12, 31)]


def test_a_deleted_subscription_is_a_no_op(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        outcome = invoice_period(
            uow,
            subscription_id=987654,
            period_start=PERIOD.start,
            period_end=PERIOD.end,
            site_settings=SiteSettings(bind=uow.session),
            now=NOW,
        )
    assert (outcome.kind, outcome.record) == (OutcomeKind.SUBSCRIPTION_MISSING, None)


@pytest.mark.parametrize(
    ("subscription", "workspace"),
    [({"status": "INACTIVE"}, {}), ({"status": "CANCELLED"}, {}), ({}, {"active": False})],
)
def test_a_subscription_no_longer_billable_is_a_no_op(
    jobs_engine: Engine, subscription: dict[str, object], workspace: dict[str, object]
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription=subscription, workspace=workspace)
        uow.commit()
    assert bill(jobs_engine, tenant).kind is OutcomeKind.NOT_BILLABLE
    assert count(jobs_engine, BillingPeriodRecord) == 0


def test_a_period_that_has_not_ended_is_not_written(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        uow.commit()
    assert bill(jobs_engine, tenant, now=at(2026, 10, 20)).kind is OutcomeKind.NOT_ENDED
    assert invoice_keys(jobs_engine, tenant) == []


def test_a_period_the_subscription_is_already_past_is_superseded(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        uow.commit()
    september = BillingPeriod(at(2026, 9, 1), at(2026, 10, 1), BillingCycle.MONTHLY, 1)
    assert bill(jobs_engine, tenant, period=september).kind is OutcomeKind.SUPERSEDED


def test_a_period_written_before_its_subscription_was_deleted_stays_written(
    sql_engine: Engine,
) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        uow.commit()
    first = bill(sql_engine, tenant)
    with UnitOfWork(sql_engine) as uow:
        uow.session.execute(
            delete(Subscription).where(col(Subscription.id) == tenant.subscription_id)
        )
        uow.commit()
    again = bill(sql_engine, tenant)
    assert (first.kind, again.kind) == (OutcomeKind.WRITTEN, OutcomeKind.ALREADY_WRITTEN)
    assert first.record is not None
    assert again.record is not None
    assert again.record.id == first.record.id


def test_another_subscription_of_the_workspace_finds_the_period_written(
    sql_engine: Engine,
) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        other = make_subscription(
            uow,
            workspace=tenant.workspace,
            plan=tenant.plan,
            created_at=tenant.subscription.created_at,
            next_billing_date=PERIOD.end,
            current_period_end=PERIOD.end,
            billing_anchor_day=1,
        )
        uow.commit()
    assert other.id is not None
    first = bill(sql_engine, tenant)
    with UnitOfWork(sql_engine) as uow:
        second = invoice_period(
            uow,
            subscription_id=other.id,
            period_start=PERIOD.start,
            period_end=PERIOD.end,
            site_settings=SiteSettings(bind=uow.session),
            now=NOW,
        )
        uow.commit()
    assert (first.kind, second.kind) == (OutcomeKind.WRITTEN, OutcomeKind.ALREADY_WRITTEN)
    assert first.record is not None
    assert second.record is not None
    assert second.record.id == first.record.id
    assert len(invoice_keys(sql_engine, tenant)) == 1


def test_a_second_writer_waits_for_the_first_and_takes_its_record(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        add_did(uow, tenant, monthly_cost=300)
        uow.commit()
    first_wrote = threading.Event()

    def first() -> InvoicingOutcome:
        with UnitOfWork(jobs_engine) as uow:
            outcome = invoice_period(
                uow,
                subscription_id=tenant.subscription_id,
                period_start=PERIOD.start,
                period_end=PERIOD.end,
                site_settings=SiteSettings(bind=uow.session),
                now=NOW,
            )
            first_wrote.set()
            time.sleep(1.0)  # the second writer is now blocked on our uncommitted claim
            uow.commit()
            return outcome

    def second() -> tuple[InvoicingOutcome, float]:
        first_wrote.wait(10)
        started = time.monotonic()
        outcome = bill(jobs_engine, tenant)
        return outcome, time.monotonic() - started

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        won, (lost, waited) = a.result(timeout=30), b.result(timeout=30)
    assert (won.kind, lost.kind) == (OutcomeKind.WRITTEN, OutcomeKind.ALREADY_WRITTEN)
    assert waited > 0.5  # it really raced: it read no record, then waited on the unique key
    assert won.record is not None
    assert lost.record is not None
    assert lost.record.id == won.record.id
    assert len(invoice_keys(jobs_engine, tenant)) == 1
    assert count(jobs_engine, Debit, source="NUMBER_RENTAL") == 1


def test_many_simultaneous_writers_write_one_invoice(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        add_did(uow, tenant, monthly_cost=300)
        uow.commit()
    start = threading.Barrier(6)

    def writer() -> OutcomeKind:
        start.wait(10)
        return bill(jobs_engine, tenant).kind

    with ThreadPoolExecutor(6) as pool:
        kinds = [f.result(timeout=60) for f in [pool.submit(writer) for _ in range(6)]]
    assert sorted(kinds) == sorted([OutcomeKind.WRITTEN] + [OutcomeKind.ALREADY_WRITTEN] * 5)
    assert len(invoice_keys(jobs_engine, tenant)) == 1
    assert count(jobs_engine, BillingPeriodRecord) == 1
    assert count(jobs_engine, Debit, source="NUMBER_RENTAL") == 1

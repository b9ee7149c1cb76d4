"""Writing a period: the invoice row, rentals, PAYG debit, dates, once.

Rules R-PERIOD-5 to R-PERIOD-9, R-INVOICE-1 and R-PAYG-2 (docs/billing-rules.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import col

from lineblocs_billing.invoicing.invoice_period import OutcomeKind
from lineblocs_billing.invoicing.rules import PayBy
from lineblocs_billing.invoicing.write import InvoiceNotWritable
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Debit, Invoice, Subscription
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PeriodState
from lineblocs_shared.models.settings_store import CustomizationsKVStore
from lineblocs_shared.reliability.failures.taxonomy import FatalError
from tests.factories import make_plan
from tests.integration.billing.invoicing.scenario import (
    END,
    NOW,
    START,
    Tenant,
    add_call,
    add_credit,
    add_debit,
    add_did,
    add_region,
    add_seat,
    add_tax,
    bill,
    compute,
    make_tenant,
)

pytestmark = pytest.mark.integration


def invoices_of(engine: Engine, tenant: Tenant) -> list[Invoice]:
    with UnitOfWork(engine) as uow:
        stmt = select(Invoice).where(col(Invoice.workspace_id) == tenant.workspace_id)
        return list(uow.session.execute(stmt).scalars())


def debits_of(engine: Engine, tenant: Tenant, source: str) -> list[Debit]:
    with UnitOfWork(engine) as uow:
        stmt = select(Debit).where(
            col(Debit.workspace_id) == tenant.workspace_id, col(Debit.source) == source
        )
        return list(uow.session.execute(stmt.order_by(col(Debit.id))).scalars())


def subscription_of(engine: Engine, tenant: Tenant) -> Subscription:
    with UnitOfWork(engine) as uow:
        subscription = uow.subscriptions.get(subscription_id=tenant.subscription_id)
        assert subscription is not None
        return subscription


def test_the_invoice_row_and_its_line_items_follow_the_rules(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        country, region = add_region(uow)
        add_tax(uow, name="HST", percentage=13, region_id=region)
        ws = {"billing_country_id": country, "billing_region_id": region}
        tenant = make_tenant(uow, minutes_per_month=0, workspace=ws)
        add_seat(uow, tenant, status="ACTIVE")
        add_debit(uow, tenant, cents=101, source="SMS")
        add_debit(uow, tenant, cents=5, source="RECORDING")
        add_debit(uow, tenant, cents=7, source="FAX")
        add_did(uow, tenant, monthly_cost=300)
        uow.commit()
    outcome = bill(sql_engine, tenant)
    assert outcome.kind is OutcomeKind.WRITTEN
    assert outcome.record is not None
    [invoice] = invoices_of(sql_engine, tenant)
    subtotal = 2499 + 101 + 5 + 7 + 300
    taxes = 379  # 2912 x 13% = 378.56
    assert (invoice.cents, invoice.cents_taxes, invoice.cents_including_taxes) == (
        subtotal,
        taxes,
        subtotal + taxes,
    )
    assert (
        invoice.membership_costs,
        invoice.call_costs,
        invoice.recording_costs,
        invoice.fax_costs,
        invoice.number_costs,
    ) == (2499, 101, 5, 7, 300)
    assert json.loads(invoice.tax_metadata) == {
        "taxes": [{"name": "HST", "percentage": 13.0, "cents": taxes}]
    }
    ws_id = tenant.workspace_id
    assert (invoice.workspace_id, invoice.user_id) == (ws_id, tenant.user.id)
    assert (invoice.status, invoice.source, invoice.invoice_type, invoice.source_service) == (
        "PENDING",
        "SUBSCRIPTION",
        "RECURRING_BILL",
        "JOBS",
    )
    assert invoice.deduplication_key == f"MONTHLY:{ws_id}:2026-10-01"
    assert invoice.invoice_no == f"M-{ws_id}-20261001"
    assert invoice.created_at == invoice.updated_at == invoice.due_date == NOW
    with UnitOfWork(sql_engine) as uow:
        assert invoice.id is not None
        items = {i.key_name: i.cents for i in uow.invoices.line_items(invoice_id=invoice.id)}
    assert items == {
        "call_costs": 101,
        "recording_costs": 5,
        "fax_costs": 7,
        "membership_costs": 2499,
        "number_costs": 300,
    }
    record = outcome.record
    assert (record.invoice_id, record.state, record.total_cents, record.amount_due_cents) == (
        invoice.id,
        PeriodState.INVOICED,
        subtotal + taxes,
        subtotal + taxes,
    )


def test_the_due_date_follows_the_lineblocs_settings(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        uow.session.add(CustomizationsKVStore.of("invoice_due_date_enabled", True))
        uow.session.add(CustomizationsKVStore.of("invoice_due_num_days", 14))
        tenant = make_tenant(uow)
        uow.commit()
    bill(jobs_engine, tenant)
    [invoice] = invoices_of(jobs_engine, tenant)
    assert invoice.due_date == NOW + timedelta(days=14)


def test_rental_debits_are_written_once_whatever_the_number_of_runs(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        did = add_did(uow, tenant, monthly_cost=300)
        add_did(uow, tenant, monthly_cost=150)
        add_did(uow, tenant, monthly_cost=999, active=False)
        uow.commit()
    first = bill(sql_engine, tenant)
    again = bill(sql_engine, tenant)
    assert (first.kind, again.kind) == (OutcomeKind.WRITTEN, OutcomeKind.ALREADY_WRITTEN)
    rentals = debits_of(sql_engine, tenant, "NUMBER_RENTAL")
    assert [(d.cents, d.module_id, d.status, d.created_at) for d in rentals[:1]] == [
        (300, did, "CREATED", START)
    ]
    assert [d.deduplication_key for d in rentals] == [
        f"NUMBER_RENTAL:{did}:2026-10-01",
        f"NUMBER_RENTAL:{did + 1}:2026-10-01",
    ]
    [invoice] = invoices_of(sql_engine, tenant)
    assert invoice.number_costs == 450
    # Computed again once they exist, the rentals are counted once, not twice.
    assert compute(sql_engine, tenant).number_costs == 450


def test_a_period_with_nothing_due_writes_no_invoice_but_advances(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=0)
        uow.commit()
    outcome = bill(sql_engine, tenant)
    assert outcome.record is not None
    assert (outcome.record.state, outcome.record.invoice_id) == (PeriodState.NOTHING_DUE, None)
    assert invoices_of(sql_engine, tenant) == []
    assert subscription_of(sql_engine, tenant).next_billing_date == datetime(
        2026, 12, 1, tzinfo=UTC
    )


def test_billing_moves_the_subscription_to_its_next_period(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        uow.commit()
    bill(sql_engine, tenant)
    subscription = subscription_of(sql_engine, tenant)
    next_end = datetime(2026, 12, 1, tzinfo=UTC)
    assert (subscription.last_billed_at, subscription.next_billing_date) == (NOW, next_end)
    assert (subscription.current_period_end, subscription.status) == (next_end, "ACTIVE")


def test_cancel_at_period_end_bills_the_period_then_cancels(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription={"cancel_at_period_end": True})
        uow.commit()
    assert bill(jobs_engine, tenant).kind is OutcomeKind.WRITTEN
    assert len(invoices_of(jobs_engine, tenant)) == 1
    assert subscription_of(jobs_engine, tenant).status == "CANCELLED"
    next_period = bill(jobs_engine, tenant, period=compute(jobs_engine, tenant).period.following())
    assert next_period.kind is OutcomeKind.NOT_BILLABLE


def test_a_plan_change_due_by_the_period_end_applies_after_billing_on_the_old_plan(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=2499)
        company = make_plan(uow, monthly_cost_cents=4999, key_name="company")
        uow.session.execute(
            text(
                "UPDATE subscriptions SET scheduled_plan_id = :plan,"
                " scheduled_effective_date = :at WHERE id = :id"
            ),
            {"plan": company.plan.id, "at": END.replace(tzinfo=None), "id": tenant.subscription_id},
        )
        uow.commit()
    bill(jobs_engine, tenant)
    [invoice] = invoices_of(jobs_engine, tenant)
    assert invoice.membership_costs == 2499
    subscription = subscription_of(jobs_engine, tenant)
    assert subscription.current_plan_id == company.plan.id
    assert (subscription.scheduled_plan_id, subscription.scheduled_effective_date) == (None, None)


def test_a_plan_change_due_later_waits(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        later = END + timedelta(seconds=1)
        company = make_plan(uow, monthly_cost_cents=4999, key_name="company")
        tenant = make_tenant(
            uow,
            subscription={"scheduled_plan_id": company.plan.id, "scheduled_effective_date": later},
        )
        uow.commit()
    bill(jobs_engine, tenant)
    subscription = subscription_of(jobs_engine, tenant)
    assert subscription.current_plan_id == tenant.plan.plan.id
    assert subscription.scheduled_plan_id == company.plan.id


def test_an_invoice_the_site_already_created_is_adopted(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        key = f"MONTHLY:{tenant.workspace_id}:2026-10-01"
        site = Invoice(
            workspace_id=tenant.workspace_id,
            user_id=tenant.user.id,
            cents=1200,
            cents_taxes=34,
            cents_including_taxes=1234,
            tax_metadata="[]",
            status="PENDING",
            source="SUBSCRIPTION",
            source_service="SITE",
            deduplication_key=key,
            created_at=START,
            updated_at=START,
        )
        uow.invoices.add(invoice=site, line_items=[])
        uow.commit()
    outcome = bill(jobs_engine, tenant)
    [invoice] = invoices_of(jobs_engine, tenant)
    assert invoice.source_service == "SITE"
    assert outcome.record is not None
    assert (outcome.record.invoice_id, outcome.record.total_cents) == (site.id, 1234)
    assert (outcome.record.state, outcome.record.amount_due_cents) == (PeriodState.INVOICED, 1234)


def test_an_adopted_invoice_the_site_already_collected_is_paid(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        site = Invoice(
            workspace_id=tenant.workspace_id,
            cents=2499,
            cents_taxes=0,
            cents_including_taxes=2499,
            tax_metadata="[]",
            status="PAID",
            source="SUBSCRIPTION",
            deduplication_key=f"MONTHLY:{tenant.workspace_id}:2026-10-01",
        )
        uow.invoices.add(invoice=site, line_items=[])
        uow.commit()
    outcome = bill(jobs_engine, tenant)
    assert outcome.record is not None
    assert (outcome.record.state, outcome.record.amount_due_cents) == (PeriodState.PAID, 0)


def test_pay_as_you_go_membership_becomes_one_subscription_debit_counted_once(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=700, plan={"pay_as_you_go": True})
        add_credit(uow, tenant, cents=1000)
        add_debit(uow, tenant, cents=300, source="SMS")
        uow.commit()
    before = compute(jobs_engine, tenant)
    outcome = bill(jobs_engine, tenant)
    assert outcome.record is not None
    assert (outcome.record.state, outcome.record.amount_due_cents) == (PeriodState.INVOICED, 0)
    [invoice] = invoices_of(jobs_engine, tenant)
    assert (invoice.source, invoice.cents_including_taxes) == ("CREDITS", 1000)
    [debit] = debits_of(jobs_engine, tenant, "SUBSCRIPTION")
    assert (debit.cents, debit.created_at, debit.status) == (700, END, "CREATED")
    assert debit.deduplication_key == f"SUBSCRIPTION:{tenant.workspace_id}:2026-10-01"
    assert bill(jobs_engine, tenant).kind is OutcomeKind.ALREADY_WRITTEN
    assert len(debits_of(jobs_engine, tenant, "SUBSCRIPTION")) == 1
    after = compute(jobs_engine, tenant)  # the written debit is not counted against it again
    assert (after.payg_balance_before_end, after.pay_by) == (
        before.payg_balance_before_end,
        PayBy.CREDITS,
    )


def test_pay_as_you_go_short_of_credits_leaves_the_shortfall_due(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=700, plan={"pay_as_you_go": True})
        add_credit(uow, tenant, cents=900)
        add_debit(uow, tenant, cents=300, source="SMS")
        uow.commit()
    outcome = bill(jobs_engine, tenant)  # 900 - 300 - 700 = -100
    assert outcome.record is not None
    assert (outcome.record.total_cents, outcome.record.amount_due_cents) == (1000, 100)


def test_every_column_reads_back_on_both_schema_variants(any_jobs_engine: Engine) -> None:
    with UnitOfWork(any_jobs_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1)
        add_debit(uow, tenant, cents=100, source="SMS")
        add_call(uow, tenant, cents=610, duration=61)
        add_did(uow, tenant, monthly_cost=250)
        uow.commit()
    assert bill(any_jobs_engine, tenant).kind is OutcomeKind.WRITTEN
    [invoice] = invoices_of(any_jobs_engine, tenant)
    assert (invoice.cents_including_taxes, invoice.call_costs, invoice.number_costs) == (
        2499 + 110 + 250,
        110,
        250,
    )
    assert [d.cents for d in debits_of(any_jobs_engine, tenant, "NUMBER_RENTAL")] == [250]


def test_an_amount_an_older_database_cannot_hold_is_fatal_and_writes_nothing(
    legacy_jobs_engine: Engine,
) -> None:
    with UnitOfWork(legacy_jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=100_000_000)  # $1,000,000.00
        uow.commit()
    with pytest.raises(InvoiceNotWritable) as raised:
        bill(legacy_jobs_engine, tenant)
    assert isinstance(raised.value, FatalError)
    with UnitOfWork(legacy_jobs_engine) as uow:
        periods = uow.session.execute(select(func.count()).select_from(BillingPeriodRecord))
        assert periods.scalar_one() == 0

"""Membership, seats, rentals, taxes and settling of a computed invoice .

Rules R-MEMBER-1 to R-MEMBER-3, R-TAX-1 and R-PAYG-3 (docs/billing-rules.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from lineblocs_billing.invoicing.drafting import PlanMissing
from lineblocs_billing.invoicing.rules import PayBy
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle
from lineblocs_shared.reliability.failures.taxonomy import FatalError
from tests.integration.billing.invoicing.scenario import (
    ANNUAL_PERIOD,
    END,
    START,
    Tenant,
    add_credit,
    add_debit,
    add_did,
    add_region,
    add_seat,
    add_tax,
    compute,
    make_tenant,
)

pytestmark = pytest.mark.integration


def test_seats_are_active_members_and_members_terminated_during_the_period(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        add_seat(uow, tenant, status="ACTIVE")
        add_seat(uow, tenant, status="ACTIVE")
        add_seat(uow, tenant, status="TERMINATED", terminated_account_at=START + timedelta(days=3))
        add_seat(uow, tenant, status="TERMINATED", terminated_account_at=START - timedelta(days=1))
        add_seat(uow, tenant, status="TERMINATED", terminated_account_at=END)  # next period's
        add_seat(uow, tenant, status="ACTIVE", deleted_at=START)
        add_seat(uow, tenant, status="INVITED")
        add_seat(uow, tenant, status="DEACTIVATED")
        uow.commit()
    draft = compute(jobs_engine, tenant)
    assert draft.seats == 3
    assert draft.membership_costs == 3 * 2499


def test_a_workspace_without_billable_members_pays_one_seat(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        add_seat(uow, tenant, status="INVITED")
        uow.commit()
    assert compute(jobs_engine, tenant).seats == 1


def test_membership_is_prorated_from_the_subscription_start(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription={"created_at": datetime(2026, 10, 16, tzinfo=UTC)})
        uow.commit()
    assert compute(jobs_engine, tenant).membership_costs == 1290  # 2499 x 16/31 = 1289.81


def test_prorated_membership_rounds_half_up(jobs_engine: Engine) -> None:
    halfway = datetime(2026, 10, 16, 12, tzinfo=UTC)  # 15.5 of 31 days left
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=5, subscription={"created_at": halfway})
        uow.commit()
    assert compute(jobs_engine, tenant).membership_costs == 3  # 2.5 -> 3, not to even


def test_membership_starts_at_the_end_of_an_active_free_trial(jobs_engine: Engine) -> None:
    trial = {
        "is_free_trial_active": True,
        "free_trial_end_date": datetime(2026, 10, 21, tzinfo=UTC),
    }
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription=trial)
        uow.commit()
    assert compute(jobs_engine, tenant).membership_costs == 887  # 2499 x 11/31 = 886.74


def test_a_trial_end_date_is_ignored_when_the_trial_is_not_active(jobs_engine: Engine) -> None:
    trial = {
        "is_free_trial_active": False,
        "free_trial_end_date": datetime(2026, 10, 21, tzinfo=UTC),
    }
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription=trial)
        uow.commit()
    assert compute(jobs_engine, tenant).membership_costs == 2499


def test_usage_is_billed_during_a_free_trial(jobs_engine: Engine) -> None:
    trial = {"is_free_trial_active": True, "free_trial_end_date": END + timedelta(days=5)}
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, subscription=trial)
        add_debit(uow, tenant, cents=100, source="SMS")
        uow.commit()
    draft = compute(jobs_engine, tenant)
    assert (draft.membership_costs, draft.cents_including_taxes) == (0, 100)


def test_a_soft_deleted_plan_still_bills_its_subscribers(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow, plan={"deleted_at": START, "status": "INACTIVE"})
        uow.commit()
    assert compute(jobs_engine, tenant).membership_costs == 2499


def test_an_annual_subscription_pays_the_annual_price_and_twelve_months_of_rentals(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(
            uow,
            cycle=BillingCycle.ANNUAL,
            plan={"annual_cost_cents": 24990},
            subscription={"created_at": datetime(2025, 1, 1, tzinfo=UTC)},
        )
        add_seat(uow, tenant, status="ACTIVE")
        add_seat(uow, tenant, status="ACTIVE")
        add_did(uow, tenant, monthly_cost=100)
        add_did(uow, tenant, monthly_cost=500, active=False)
        uow.commit()
    draft = compute(jobs_engine, tenant, ANNUAL_PERIOD)
    assert draft.membership_costs == 2 * 24990
    assert draft.number_costs == 1200
    assert [(r.cents, r.deduplication_key[-10:]) for r in draft.rentals] == [(1200, "2025-11-01")]


def test_the_plan_price_is_read_from_either_schema_variant(any_jobs_engine: Engine) -> None:
    with UnitOfWork(any_jobs_engine) as uow:
        tenant = make_tenant(uow, monthly_cost_cents=4999)
        uow.commit()
    assert compute(any_jobs_engine, tenant).membership_costs == 4999


def test_the_regions_primary_tax_wins_and_rounds_half_up(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        country, region = add_region(uow)
        add_tax(uow, name="GST", percentage=5, country_id=country)
        add_tax(uow, name="HST", percentage=13, region_id=region, country_id=country)
        add_tax(uow, name="secondary", percentage=50, region_id=region, primary_tax=False)
        ws = {"billing_country_id": country, "billing_region_id": region}
        tenant = make_tenant(uow, monthly_cost_cents=2450, workspace=ws)
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert draft.cents_taxes == 319  # 2450 x 13% = 318.5
    assert [t.as_metadata() for t in draft.taxes] == [
        {"name": "HST", "percentage": 13.0, "cents": 319}
    ]
    assert draft.cents_including_taxes == 2450 + 319


def test_without_a_regional_tax_the_countrys_applies(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        country, region = add_region(uow)
        add_tax(uow, name="GST", percentage=5, country_id=country)
        _, other_region = add_region(uow)
        add_tax(uow, name="elsewhere", percentage=9, region_id=other_region, country_id=country)
        ws = {"billing_country_id": country, "billing_region_id": region}
        tenant = make_tenant(uow, monthly_cost_cents=2450, workspace=ws)
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert (draft.cents_taxes, draft.taxes[0].name) == (123, "GST")  # 122.5 -> 123


def test_no_tax_row_means_no_tax(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        country, _ = add_region(uow)
        tenant = make_tenant(uow, workspace={"billing_country_id": country})
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert (draft.cents_taxes, draft.taxes) == (0, ())
    assert json.dumps({"taxes": [t.as_metadata() for t in draft.taxes]}) == '{"taxes": []}'


def test_a_card_plan_charges_the_total_to_the_card(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        uow.commit()
    draft = compute(jobs_engine, tenant)
    assert (draft.pay_by, draft.amount_to_charge) == (PayBy.CARD, 2499)


def payg_tenant(uow: UnitOfWork, *, monthly_cost_cents: int = 0) -> Tenant:
    return make_tenant(
        uow,
        monthly_cost_cents=monthly_cost_cents,
        minutes_per_month=0,
        plan={"pay_as_you_go": True, "key_name": "pay-as-you-go"},
    )


def test_pay_as_you_go_covered_by_credits_settles_from_credits(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = payg_tenant(uow)
        add_credit(uow, tenant, cents=1000)
        add_credit(uow, tenant, cents=5000, status="PENDING")  # not paid yet
        add_credit(uow, tenant, cents=5000, created_at=END)  # after the period
        add_debit(uow, tenant, cents=200, source="SMS", created_at=START - timedelta(days=3))
        add_debit(uow, tenant, cents=300, source="SMS")
        uow.commit()
    draft = compute(jobs_engine, tenant)
    assert draft.payg_balance_before_end == 500
    assert (draft.cents_including_taxes, draft.pay_by, draft.amount_to_charge) == (
        300,
        PayBy.CREDITS,
        0,
    )


def test_pay_as_you_go_with_exactly_zero_balance_settles_from_credits(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = payg_tenant(uow, monthly_cost_cents=700)
        add_credit(uow, tenant, cents=1000)
        add_debit(uow, tenant, cents=300, source="SMS")
        uow.commit()
    draft = compute(jobs_engine, tenant)  # 1000 - 300 - 700 membership = 0
    assert (draft.pay_by, draft.amount_to_charge) == (PayBy.CREDITS, 0)


def test_pay_as_you_go_short_of_credits_charges_the_shortfall_to_the_card(
    jobs_engine: Engine,
) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = payg_tenant(uow, monthly_cost_cents=700)
        add_credit(uow, tenant, cents=1000)
        add_debit(uow, tenant, cents=300, source="SMS")
        add_debit(uow, tenant, cents=100, source="SMS", created_at=START - timedelta(days=1))
        uow.commit()
    draft = compute(jobs_engine, tenant)  # 1000 - 400 - 700 = -100
    assert (draft.pay_by, draft.amount_to_charge) == (PayBy.CARD, 100)


def test_pay_as_you_go_never_charges_more_than_the_invoice(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = payg_tenant(uow)
        add_debit(uow, tenant, cents=5000, source="SMS", created_at=START - timedelta(days=40))
        add_debit(uow, tenant, cents=300, source="SMS")
        uow.commit()
    draft = compute(jobs_engine, tenant)  # balance -5300, invoice 300
    assert (draft.pay_by, draft.amount_to_charge) == (PayBy.CARD, 300)


def test_a_missing_plan_is_fatal(jobs_engine: Engine) -> None:
    with UnitOfWork(jobs_engine) as uow:
        tenant = make_tenant(uow)
        # Only a database without its foreign keys (or an import gone wrong) can get here.
        uow.session.execute(text("SET SESSION foreign_key_checks = 0"))
        uow.session.execute(
            text("UPDATE subscriptions SET current_plan_id = 987654 WHERE id = :id"),
            {"id": tenant.subscription_id},
        )
        uow.session.execute(text("SET SESSION foreign_key_checks = 1"))
        uow.commit()
    with pytest.raises(PlanMissing, match="987654") as raised:
        compute(jobs_engine, tenant)
    assert isinstance(raised.value, FatalError)

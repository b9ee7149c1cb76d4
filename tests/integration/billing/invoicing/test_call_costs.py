"""call_costs (R-USAGE-2): the allowance, computed by SQL, on MariaDB and on SQLite alike."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from lineblocs_billing.invoicing.rules import call_charge
from lineblocs_shared.db.uow import UnitOfWork
from tests.integration.billing.invoicing.scenario import (
    END,
    MID,
    START,
    add_call,
    add_debit,
    compute,
    make_tenant,
)

pytestmark = pytest.mark.integration


def call_costs(engine: Engine, minutes: int, calls: list[tuple[int, int]]) -> int:
    """call_costs of a tenant with `minutes` included and these (cents, seconds) calls, in
    order, one minute apart."""
    with UnitOfWork(engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=minutes)
        for n, (cents, seconds) in enumerate(calls):
            add_call(
                uow, tenant, cents=cents, duration=seconds, started_at=MID + timedelta(minutes=n)
            )
        uow.commit()
    return compute(engine, tenant).call_costs


def test_a_call_using_exactly_the_allowance_costs_nothing(sql_engine: Engine) -> None:
    assert call_costs(sql_engine, 1, [(600, 60)]) == 0


def test_one_second_over_the_allowance_pays_one_second_of_the_call(sql_engine: Engine) -> None:
    assert call_costs(sql_engine, 1, [(610, 61)]) == 10  # 610 x 1/61


def test_the_overage_charge_rounds_half_up(sql_engine: Engine) -> None:
    # 60 s of 120 over: 3 x 60/120 = 1.5 -> 2; and 5 x 60/120 = 2.5 -> 3 (not to even)
    assert call_costs(sql_engine, 1, [(3, 120)]) == 2
    assert call_costs(sql_engine, 1, [(5, 120)]) == 3


def test_a_zero_length_call_is_charged_in_full_when_nothing_remains(sql_engine: Engine) -> None:
    assert call_costs(sql_engine, 1, [(600, 60), (50, 0)]) == 50


def test_a_zero_length_call_is_free_while_allowance_remains(sql_engine: Engine) -> None:
    assert call_costs(sql_engine, 1, [(600, 59), (50, 0)]) == 0


def test_a_call_debit_without_its_call_row_is_charged_in_full(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1)
        add_debit(uow, tenant, cents=777, source="CALL", module_id=987654)
        add_debit(uow, tenant, cents=111, source="CALL", module_id=None)
        # The missing calls consume nothing: this one is still inside the allowance.
        add_call(uow, tenant, cents=600, duration=60)
        uow.commit()
    assert compute(sql_engine, tenant).call_costs == 777 + 111


def test_calls_consume_the_allowance_in_order_of_their_start(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1)
        # The later call is recorded first (lower debit id); the earlier call uses the minute.
        add_call(uow, tenant, cents=600, duration=60, started_at=MID + timedelta(hours=1))
        add_call(uow, tenant, cents=300, duration=60, started_at=MID)
        uow.commit()
    assert compute(sql_engine, tenant).call_costs == 600


def test_calls_that_start_together_consume_it_in_debit_order(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1)
        add_call(uow, tenant, cents=600, duration=60, started_at=MID)
        add_call(uow, tenant, cents=300, duration=60, started_at=MID)
        uow.commit()
    assert compute(sql_engine, tenant).call_costs == 300


def test_the_annual_allowance_is_twelve_months_of_minutes(sql_engine: Engine) -> None:
    from lineblocs_shared.models.billing import BillingCycle
    from tests.integration.billing.invoicing.scenario import ANNUAL_PERIOD

    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1, cycle=BillingCycle.ANNUAL)
        add_call(uow, tenant, cents=7210, duration=721)  # 12 minutes + 1 second
        uow.commit()
    assert compute(sql_engine, tenant, ANNUAL_PERIOD).call_costs == 10


def test_only_debits_created_inside_the_half_open_period_count(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=0)
        add_debit(uow, tenant, cents=1, source="SMS", created_at=START)
        add_debit(uow, tenant, cents=10, source="SMS", created_at=END - timedelta(seconds=1))
        add_debit(uow, tenant, cents=100, source="SMS", created_at=END)  # the next period's
        add_debit(uow, tenant, cents=1000, source="SMS", created_at=START - timedelta(seconds=1))
        uow.commit()
    assert compute(sql_engine, tenant).call_costs == 11


def test_the_sql_matches_the_rule_applied_call_by_call(sql_engine: Engine) -> None:
    rng = random.Random(20261123)
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=7)
        calls = []
        for _ in range(60):
            started = MID + timedelta(seconds=rng.randrange(0, 4000))
            cents, seconds = (
                rng.randrange(0, 5000),
                rng.choice([0, 1, 59, 60, 61, rng.randrange(300)]),
            )
            debit = add_call(uow, tenant, cents=cents, duration=seconds, started_at=started)
            calls.append((started, debit.id, cents, seconds))
        uow.commit()
    remaining, expected = 7 * 60, 0
    for _, _, cents, seconds in sorted(calls):
        charge, remaining = call_charge(cents=cents, duration=seconds, remaining=remaining)
        expected += charge
    assert compute(sql_engine, tenant).call_costs == expected

"""A constant number of queries per invoice, whatever the number of usage rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert

from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Debit
from lineblocs_shared.models.usage import Call
from tests.factories import unique_suffix
from tests.integration.billing.invoicing.scenario import (
    MID,
    Tenant,
    add_did,
    bill,
    compute,
    make_tenant,
)
from tests.support.statements import counting

pytestmark = pytest.mark.integration


def tenant_with_calls(engine: Engine, calls: int) -> Tenant:
    """A tenant with `calls` calls and their CALL debits (bulk inserted), and two numbers."""
    with UnitOfWork(engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=1)
        add_did(uow, tenant, monthly_cost=100)
        add_did(uow, tenant, monthly_cost=200)
        uow.commit()
    base = tenant.workspace_id * 1_000_000
    call_rows = [
        {
            "id": base + n,
            "api_id": f"call-{unique_suffix()}",
            "from": "+15145550100",
            "to": "+14165550199",
            "status": "ENDED",
            "direction": "outbound",
            "duration": 30 + n % 90,
            "user_id": tenant.user.id,
            "workspace_id": tenant.workspace_id,
            "started_at": (MID + timedelta(seconds=n)).replace(tzinfo=None),
            "plan_snapshot": "",
            "created_at": MID.replace(tzinfo=None),
            "updated_at": MID.replace(tzinfo=None),
        }
        for n in range(calls)
    ]
    debit_rows = [
        {
            "user_id": tenant.user.id,
            "workspace_id": tenant.workspace_id,
            "cents": 50 + n % 7,
            "source": "CALL",
            "status": "CREATED",
            "module_id": base + n,
            "created_at": MID,
            "updated_at": MID,
        }
        for n in range(calls)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Call.__table__), call_rows)  # type: ignore[attr-defined]
        conn.execute(insert(Debit), debit_rows)
    return tenant


def test_computing_an_invoice_takes_the_same_queries_for_10_or_1000_calls(
    sql_engine: Engine,
) -> None:
    small, large = tenant_with_calls(sql_engine, 10), tenant_with_calls(sql_engine, 1000)
    with counting(sql_engine) as few:
        small_draft = compute(sql_engine, small)
    with counting(sql_engine) as many:
        large_draft = compute(sql_engine, large)
    assert (small_draft.usage_debits, large_draft.usage_debits) == (10, 1000)
    assert large_draft.call_costs > small_draft.call_costs > 0
    assert len(few) == len(many) <= 12, many


def test_writing_an_invoice_takes_the_same_queries_for_10_or_1000_calls(
    sql_engine: Engine,
) -> None:
    small, large = tenant_with_calls(sql_engine, 10), tenant_with_calls(sql_engine, 1000)
    with counting(sql_engine) as few:
        bill(sql_engine, small)
    with counting(sql_engine) as many:
        bill(sql_engine, large)
    assert len(few) == len(many), many

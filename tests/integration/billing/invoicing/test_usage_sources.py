"""Which debits land in which cost, and whose they are, on MariaDB and SQLite.

Rules R-USAGE-1 and R-USAGE-3 to R-USAGE-6 (docs/billing-rules.md).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from lineblocs_billing.invoicing.unattributed import unattributed_debits
from lineblocs_shared.db.uow import UnitOfWork
from tests.factories import make_user, make_workspace
from tests.integration.billing.invoicing.scenario import (
    END,
    START,
    add_debit,
    compute,
    make_tenant,
)

pytestmark = pytest.mark.integration


def test_other_sources_are_call_costs_in_full_and_subscription_debits_are_not_usage(
    sql_engine: Engine,
) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=200)  # an allowance never covers these
        sources = ["SMS", "INBOUND_TOLL_FREE", "DATA_USAGE", "API usage - TTS", "API usage - STT"]
        for n, source in enumerate(sources):
            add_debit(uow, tenant, cents=10**n, source=source)
        add_debit(uow, tenant, cents=100000, source="SOMETHING_NEW")
        add_debit(uow, tenant, cents=5000, source="SUBSCRIPTION")
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert draft.call_costs == 11111 + 100000
    assert draft.usage_debits == 6
    assert draft.cents == draft.membership_costs + 111111


def test_recording_fax_and_number_sources_have_their_own_costs(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        add_debit(uow, tenant, cents=1, source="RECORDING")
        add_debit(uow, tenant, cents=2, source="API usage - RECORDING")
        add_debit(uow, tenant, cents=10, source="FAX")
        add_debit(uow, tenant, cents=20, source="API usage - FAX")
        add_debit(uow, tenant, cents=100, source="NUMBER_RENTAL")
        add_debit(uow, tenant, cents=200, source="DID_RENTAL")
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert (draft.recording_costs, draft.fax_costs, draft.number_costs) == (3, 30, 300)
    assert draft.call_costs == 0


def test_rows_without_workspace_count_when_their_user_created_only_this_workspace(
    sql_engine: Engine,
) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        add_debit(uow, tenant, cents=40, source="SMS", workspace_id=None)
        add_debit(uow, tenant, cents=5, source="RECORDING", workspace_id=None)
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert (draft.call_costs, draft.recording_costs) == (40, 5)
    assert draft.unattributed_debits == 0


def test_rows_without_workspace_of_a_creator_of_two_workspaces_are_left_out_and_reported(
    sql_engine: Engine,
) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        make_workspace(uow, creator=tenant.user)  # a second workspace of the same creator
        add_debit(uow, tenant, cents=40, source="SMS", workspace_id=None)
        add_debit(uow, tenant, cents=7, source="SMS")
        loner = make_user(uow)  # created no workspace: their row belongs to nobody
        add_debit(uow, tenant, cents=9, source="SMS", workspace_id=None, user_id=loner.id)
        uow.commit()
    draft = compute(sql_engine, tenant)
    assert draft.call_costs == 7
    assert draft.unattributed_debits == 1
    with UnitOfWork(sql_engine) as uow:
        assert unattributed_debits(uow.session, start=START, end=END) == 2


def test_other_workspaces_usage_is_not_billed(sql_engine: Engine) -> None:
    with UnitOfWork(sql_engine) as uow:
        tenant = make_tenant(uow)
        other = make_tenant(uow)
        add_debit(uow, other, cents=999, source="SMS")
        add_debit(uow, other, cents=999, source="SMS", workspace_id=None)
        add_debit(uow, tenant, cents=1, source="SMS")
        uow.commit()
    assert compute(sql_engine, tenant).call_costs == 1


def test_fractional_cents_of_an_older_database_round_half_up_per_debit(
    legacy_jobs_engine: Engine,
) -> None:
    from sqlalchemy import text

    with UnitOfWork(legacy_jobs_engine) as uow:
        tenant = make_tenant(uow, minutes_per_month=0)
        ids = [add_debit(uow, tenant, cents=0, source=s).id for s in ("SMS", "SMS", "FAX")]
        # DOUBLE(8,2) values the Python model cannot write (it writes integers only).
        for debit_id, value in zip(ids, ("10.50", "10.49", "0.50"), strict=True):
            uow.session.execute(
                text("UPDATE users_debits SET cents = :v WHERE id = :id"),
                {"v": value, "id": debit_id},
            )
        uow.commit()
    draft = compute(legacy_jobs_engine, tenant)
    assert (draft.call_costs, draft.fax_costs) == (11 + 10, 1)

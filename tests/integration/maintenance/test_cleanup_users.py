"""Users who never set a password: deleted after the site's 7 days with everything their
workspaces hold — unless they, or a workspace they created, hold money or usage records, or a
row whose foreign key would refuse the delete. Both schema variants."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine, text

from lineblocs_maintenance import handlers
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import Credit, Debit, Invoice, InvoicePayment
from lineblocs_shared.models.billing_runs import BillingPeriodRecord, PaymentAttempt
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import DidNumber, Recording
from tests.factories import make_call, make_user, make_workspace, unique_suffix
from tests.integration.maintenance.conftest import DAY, NOW, MakeDeps, count
from tests.support.cli import CLI

pytestmark = pytest.mark.integration
SECOND = DAY / 86400
DUE = NOW - 7 * DAY


def never_set_password(engine: Engine, *, asked: datetime = DUE) -> tuple[int, int]:
    """A user asked to set a password at `asked`, with a workspace he created: their ids."""
    with UnitOfWork(engine) as uow:
        user = make_user(uow, needs_password_set=True, needs_set_password_date=asked)
        space = make_workspace(uow, creator=user)
        uow.commit()
        assert user.id is not None
        assert space.id is not None
        return user.id, space.id


def someone_elses_workspace(uow: UnitOfWork) -> Workspace:
    return make_workspace(uow, creator=make_user(uow))


def invoice(uow: UnitOfWork, user: User, space: Workspace) -> None:
    uow.session.add(Invoice(workspace_id=space.id, cents=100, cents_taxes=0,
                            cents_including_taxes=100, tax_metadata="{}",
                            source="SUBSCRIPTION", status="INCOMPLETE"))  # fmt: skip


def own_credit(uow: UnitOfWork, user: User, space: Workspace) -> None:
    # His money in a workspace he did not create: a delete would orphan it (SET NULL).
    uow.session.add(Credit(user_id=user.id, workspace_id=someone_elses_workspace(uow).id,
                           cents=500, balance=500, source="CARD", status="APPROVED"))  # fmt: skip


def payment(uow: UnitOfWork, user: User, space: Workspace) -> None:
    uow.session.add(InvoicePayment(workspace_id=space.id, cents=100, source="CARD", status="PAID"))


def debit(uow: UnitOfWork, user: User, space: Workspace) -> None:
    uow.session.add(Debit(workspace_id=space.id, cents=7, source="CALL", status="COMPLETED"))


def call(uow: UnitOfWork, user: User, space: Workspace) -> None:
    make_call(uow, workspace=space)


def recording(uow: UnitOfWork, user: User, space: Workspace) -> None:
    uow.session.add(Recording(api_id=f"rec-{unique_suffix()}", status="FINALIZED",
                              user_id=user.id, workspace_id=space.id))  # fmt: skip


def number(uow: UnitOfWork, user: User, space: Workspace) -> None:
    uow.session.add(DidNumber(number="+15145550100", workspace_id=space.id, monthly_cost=300))


def payment_attempt(uow: UnitOfWork, user: User, space: Workspace) -> None:
    start = NOW - 30 * DAY
    period = BillingPeriodRecord(cycle="MONTHLY", workspace_id=space.id, subscription_id=1,
                                 period_start=start, period_end=NOW, state="paid")  # fmt: skip
    uow.session.add(period)
    uow.session.flush()
    uow.session.add(PaymentAttempt(billing_period_id=period.id, invoice_id=1,
                                   workspace_id=space.id, attempt_no=1, gateway="stripe",
                                   attempt_key=f"k-{unique_suffix()}", amount_cents=100,
                                   currency="CAD", state="succeeded"))  # fmt: skip


def flow_elsewhere(uow: UnitOfWork, user: User, space: Workspace) -> None:
    # A flow he made in someone else's workspace: flows.user_id RESTRICTs the delete.
    uow.session.execute(
        text("INSERT INTO flows (name, description, user_id, started, workspace_id, category,"
             " created_at, updated_at) VALUES ('IVR', '', :u, 0, :w, 'voice', NOW(), NOW())"),
        {"u": user.id, "w": someone_elses_workspace(uow).id},
    )  # fmt: skip


Record = Callable[[UnitOfWork, User, Workspace], None]
BLOCKERS: list[tuple[Record, str]] = [
    (invoice, "invoice"),
    (own_credit, "credit"),
    (payment, "payment"),
    (debit, "debit"),
    (call, "call"),
    (recording, "recording"),
    (number, "number"),
    (payment_attempt, "payment attempt"),
    (flow_elsewhere, "flow"),
]


def with_record(engine: Engine, record: Record) -> tuple[int, int]:
    user_id, space_id = never_set_password(engine)
    with UnitOfWork(engine) as uow:
        user, space = uow.session.get(User, user_id), uow.session.get(Workspace, space_id)
        assert user is not None
        assert space is not None
        record(uow, user, space)
        uow.commit()
    return user_id, space_id


def test_exactly_seven_days_goes_and_one_second_less_stays(
    engine: Engine, make_deps: MakeDeps
) -> None:
    due, _ = never_set_password(engine, asked=DUE)
    early, _ = never_set_password(engine, asked=DUE + SECOND)
    with UnitOfWork(engine) as uow:
        set_password = make_user(
            uow, needs_password_set=False, needs_set_password_date=DUE - DAY
        ).id
        uow.commit()

    report = handlers.cleanup(make_deps())

    assert report is not None
    assert (report.deleted, report.kept) == (1, 0)
    assert count(engine, "users", "id = :id", id=due) == 0
    assert count(engine, "users", "id IN (:a, :b)", a=early, b=set_password) == 2


def test_a_user_without_records_goes_with_his_workspace_and_all_it_holds(
    engine: Engine, make_deps: MakeDeps
) -> None:
    _user_id, space_id = never_set_password(engine)
    with UnitOfWork(engine) as uow:
        space = uow.session.get(Workspace, space_id)
        member = make_user(uow)
        uow.session.execute(
            text("INSERT INTO debugger_logs (`from`, `to`, title, report, workspace_id, api_id,"
                 " created_at, updated_at) VALUES ('a', 'b', 't', 'r', :w, :api, NOW(), NOW())"),
            {"w": space_id, "api": f"log-{unique_suffix()}"},
        )  # fmt: skip
        assert space is not None
        uow.commit()

    handlers.cleanup(make_deps())

    assert count(engine, "workspaces", "id = :w", w=space_id) == 0
    assert count(engine, "debugger_logs", "workspace_id = :w", w=space_id) == 0
    assert count(engine, "users", "id = :m", m=member.id) == 1  # only what he made goes


@pytest.mark.parametrize(("record", "reason"), BLOCKERS, ids=[r for _, r in BLOCKERS])
def test_money_usage_or_a_restricting_row_keeps_the_user_and_everything_of_his(
    engine: Engine, make_deps: MakeDeps, record: Record, reason: str
) -> None:
    user_id, space_id = with_record(engine, record)
    clean_id, _ = never_set_password(engine)

    report = handlers.cleanup(make_deps())

    assert report is not None
    kept = {v.user_id: v.reasons for v in report.verdicts if not v.deleted}
    assert kept == {user_id: (reason,)}
    assert count(engine, "users", "id = :u", u=user_id) == 1
    assert count(engine, "workspaces", "id = :w", w=space_id) == 1
    assert count(engine, "users", "id = :u", u=clean_id) == 0  # the rest of the run goes on
    assert report.summary()["kept_because"] == {reason: 1}


def test_a_dry_run_judges_the_same_and_deletes_nothing(engine: Engine, make_deps: MakeDeps) -> None:
    kept_id, _ = with_record(engine, call)
    gone_id, _ = never_set_password(engine)

    report = handlers.cleanup(make_deps(), dry_run=True)

    assert report is not None
    assert report.dry_run
    assert {(v.user_id, v.deleted, v.reasons) for v in report.verdicts} == {
        (kept_id, False, ("call",)),
        (gone_id, True, ()),
    }
    assert count(engine, "users", "id IN (:a, :b)", a=kept_id, b=gone_id) == 2
    assert count(engine, "lbj_job_runs") == 0  # a dry run claims nothing


def test_pages_smaller_than_the_candidates_miss_none(engine: Engine, make_deps: MakeDeps) -> None:
    ids = [never_set_password(engine)[0] for _ in range(7)]
    blocked, _ = with_record(engine, number)

    report = handlers.cleanup(make_deps(cleanup_batch_size=2))

    assert report is not None
    assert (report.deleted, report.kept) == (7, 1)
    assert count(engine, "users", "id IN :ids", ids=tuple(ids)) == 0
    assert count(engine, "users", "id = :b", b=blocked) == 1


def test_the_command_lists_who_would_go_and_why_the_rest_stays(
    engine: Engine, any_lineblocs_engine: Engine
) -> None:
    kept_id, _ = with_record(engine, recording)
    gone_id, _ = never_set_password(engine)
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    dry = subprocess.run([CLI, "maintenance", "cleanup-users", "--dry-run"], env=env,
                         capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    assert f"user {kept_id}: kept (recording)" in dry.stdout
    assert f"user {gone_id}: would delete" in dry.stdout
    assert "cleanup-users: would delete 1, kept 1" in dry.stdout
    assert count(engine, "users", "id = :g", g=gone_id) == 1

    real = subprocess.run([CLI, "maintenance", "cleanup-users", "--json"], env=env,
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    result = json.loads(real.stdout)
    assert (result["deleted"], result["kept"], result["kept_because"]) == (1, 1, {"recording": 1})
    assert count(engine, "users", "id = :g", g=gone_id) == 0

"""Retention: the log tables past `log_retention_days`, and our own housekeeping rows past
their own settings — in batches, with money and audit records never touched."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from lineblocs_maintenance import handlers
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing_runs import BillingPeriodRecord
from lineblocs_shared.models.jobs import (
    DeadLetter,
    DeadLetterStatus,
    JobRun,
    JobRunEvent,
    OutboxMessage,
    ProcessedEvent,
    RunState,
)
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.models.notifications import Notification
from tests.factories import make_user, make_workspace, unique_suffix
from tests.integration.maintenance.conftest import DAY, NOW, MakeDeps, count
from tests.support.cli import CLI

pytestmark = pytest.mark.integration
SECOND = DAY / 86400


def logs_at(engine: Engine, *moments: datetime) -> None:
    with UnitOfWork(engine) as uow:
        space = make_workspace(uow, creator=make_user(uow))
        for at in moments:
            uow.session.add(DebuggerLog(created_at=at, updated_at=at, from_="a", to="b",
                                        title="t", report="r", workspace_id=space.id,
                                        api_id=f"log-{unique_suffix()}"))  # fmt: skip
            uow.session.add(ErrorUserTrace(created_at=at, updated_at=at, message="m",
                                           full_url="/x"))  # fmt: skip
        uow.commit()


def test_logs_older_than_the_retention_go_in_batches_and_the_boundary_stays(
    engine: Engine, make_deps: MakeDeps
) -> None:
    cutoff = NOW - 7 * DAY
    logs_at(engine, *[cutoff - n * SECOND for n in range(1, 6)], cutoff, cutoff + SECOND)

    preview = handlers.purge_logs(make_deps(), dry_run=True)
    result = handlers.purge_logs(make_deps(retention_batch_size=2))

    assert preview is not None
    assert (preview.debugger_logs, preview.error_user_traces) == (5, 5)
    assert result is not None
    assert (result.debugger_logs, result.error_user_traces) == (5, 5)
    assert count(engine, "debugger_logs") == 2  # created at or after the cutoff
    assert count(engine, "error_user_trace") == 2


def old_and_new(session: Session, old: datetime, new: datetime) -> None:
    """One row of each housekeeping kind before and after its cutoff, plus what never goes."""
    for at in (old, new):
        session.add(OutboxMessage(event_id=unique_suffix(), queue_name="q", actor_name="a",
                                  payload="{}", created_at=at, published_at=at))  # fmt: skip
        session.add(ProcessedEvent(consumer="c", event_id=unique_suffix(), processed_at=at))
        for job in ("maintenance.purge_logs", "billing.distribute"):
            run = JobRun(job=job, run_key=unique_suffix(), state=RunState.SUCCEEDED,
                         created_at=at, updated_at=at, finished_at=at)  # fmt: skip
            session.add(run)
            session.flush()
            session.add(JobRunEvent(run_id=run.id, at=at, to_state="succeeded"))
        session.add(dead_letter(at, DeadLetterStatus.REPLAYED))
    # Never purged, however old: unpublished outbox, an unresolved dead letter, money records.
    session.add(OutboxMessage(event_id=unique_suffix(), queue_name="q", actor_name="a",
                              payload="{}", created_at=old))  # fmt: skip
    session.add(dead_letter(old, DeadLetterStatus.DEAD))
    session.add(BillingPeriodRecord(cycle="MONTHLY", workspace_id=1, subscription_id=1,
                                    period_start=old, period_end=old, state="paid",
                                    created_at=old))  # fmt: skip
    session.add(Notification(kind="inactive_user", dedupe_key=unique_suffix(),
                             message_id=unique_suffix(), state="sent", created_at=old,
                             updated_at=old))  # fmt: skip


def dead_letter(at: datetime, status: DeadLetterStatus) -> DeadLetter:
    return DeadLetter(message_id=unique_suffix(), queue_name="q", actor_name="a", args="[]",
                      kwargs="{}", options="{}", reason="failed", first_seen_at=at,
                      last_seen_at=at, status=status,
                      replayed_at=at if status is DeadLetterStatus.REPLAYED else None)  # fmt: skip


def test_our_tables_keep_what_is_recent_unresolved_or_money(
    engine: Engine, make_deps: MakeDeps
) -> None:
    with Session(engine) as session:
        old_and_new(session, NOW - 91 * DAY, NOW - 89 * DAY)
        session.commit()

    result = handlers.retention(make_deps(outbox_retention_days=90, retention_batch_size=1))

    assert result is not None
    assert result.deleted == {
        "lbj_outbox": 1,
        "lbj_processed_events": 1,
        "lbj_job_runs": 2,
        "lbj_dead_letters": 1,
    }
    assert count(engine, "lbj_outbox") == 2  # the recent one and the unpublished one
    assert count(engine, "lbj_dead_letters", "status = 'dead'") == 1
    assert count(engine, "lbj_billing_periods") == 1
    assert count(engine, "lbj_notifications") == 1
    # The run of this very retention job, the recent runs, and their events.
    assert count(engine, "lbj_job_runs", "job != 'maintenance.retention'") == 2
    events = "run_id IN (SELECT id FROM lbj_job_runs WHERE job != 'maintenance.retention')"
    assert count(engine, "lbj_job_run_events", events) == 2
    assert count(engine, "lbj_job_run_events", "run_id NOT IN (SELECT id FROM lbj_job_runs)") == 0


def test_the_latest_run_of_a_job_stays_however_old(engine: Engine, make_deps: MakeDeps) -> None:
    with Session(engine) as session:
        for days in (400, 300):
            at = NOW - days * DAY
            session.add(JobRun(job="billing.annual", run_key=f"k{days}", state=RunState.SUCCEEDED,
                               created_at=at, updated_at=at, finished_at=at))  # fmt: skip
        session.commit()

    handlers.retention(make_deps())

    assert count(engine, "lbj_job_runs", "job = 'billing.annual'") == 1
    assert count(engine, "lbj_job_runs", "run_key = 'k300'") == 1


def test_the_retention_command_dry_run_counts_and_json_reports(engine: Engine) -> None:
    with Session(engine) as session:
        old_and_new(session, NOW - 400 * DAY, NOW)
        session.commit()
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    dry = subprocess.run([CLI, "maintenance", "retention", "--dry-run"], env=env,
                         capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    assert "retention: would delete 1 from lbj_outbox, 1 from lbj_processed_events" in dry.stdout
    assert count(engine, "lbj_outbox") == 3

    real = subprocess.run([CLI, "maintenance", "retention", "--json"], env=env,
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    result = json.loads(real.stdout)
    assert (result["lbj_outbox"], result["lbj_job_runs"], result["dry_run"]) == (1, 2, False)
    assert count(engine, "lbj_outbox") == 2

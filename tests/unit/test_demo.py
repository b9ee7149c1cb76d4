"""The embedded demo: what `make demo` runs, on SQLite with the in-process broker."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from lineblocs_maintenance.schedules import PURGE_LOGS_JOB
from lineblocs_notifications.kinds.catalog import KINDS
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import prepare, run_services
from lineblocs_shared.models.jobs import JobRun, OutboxMessage
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.models.notifications import Notification
from lineblocs_shared.models.recordings import RecordingRelocation
from lineblocs_shared.models.tenants import User
from lineblocs_shared.models.usage import Recording
from lineblocs_shared.registry import installed_services
from tests.support.cli import CLI

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_demo_runs_the_maintenance_actor_through_the_broker(tmp_path: Path) -> None:
    ctx = prepare(tmp_path / "demo.sqlite3", clock=FixedClock(NOW))
    cutoff = NOW - timedelta(days=7)
    with UnitOfWork(ctx.engine) as uow:
        old_logs = uow.session.execute(
            select(func.count()).select_from(DebuggerLog).where(DebuggerLog.created_at < cutoff)
        ).scalar_one()
        total_logs = uow.session.execute(select(func.count()).select_from(DebuggerLog)).scalar_one()
    assert 0 < old_logs < total_logs  # the seed has logs on both sides of the cutoff

    ran = run_services(ctx, list(installed_services().values()))

    assert "maintenance" in ran
    with UnitOfWork(ctx.engine) as uow:
        remaining = uow.session.execute(select(DebuggerLog.created_at)).scalars().all()
        traces = uow.session.execute(select(ErrorUserTrace.created_at)).scalars().all()
        runs = (
            uow.session.execute(select(JobRun).where(JobRun.job == PURGE_LOGS_JOB.name))
            .scalars()
            .all()
        )
    assert len(remaining) == total_logs - old_logs
    assert all(created >= cutoff for created in [*remaining, *traces])
    assert [run.state for run in runs] == ["succeeded"]
    assert runs[0].message_id is not None  # it went through the broker, not a direct call


def test_make_demo_command_needs_no_environment(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = subprocess.run(
        [CLI, "demo", "--database", str(tmp_path / "d.sqlite3"), "--now", "2026-11-23T12:00:00"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Seeded Lineblocs data" in result.stdout
    assert "succeeded" in result.stdout
    assert "Billing — invoices" in result.stdout
    assert "card_declined" in result.stdout
    assert "services run: billing, maintenance, notifications" in result.stdout
    assert "Notifications — mails sent once each" in result.stdout
    assert "Maintenance — recordings relocated" in result.stdout


def test_the_demo_relocates_finalized_recordings_to_the_local_folder(tmp_path: Path) -> None:
    ctx = prepare(tmp_path / "demo.sqlite3", clock=FixedClock(NOW))
    run_services(ctx, list(installed_services().values()))
    with UnitOfWork(ctx.engine) as uow:
        recordings = uow.session.execute(select(Recording)).scalars().all()
        marks = {
            m.recording_id: m for m in uow.session.execute(select(RecordingRelocation)).scalars()
        }
    by_name = {r.storage_id: r for r in recordings}
    lost = by_name.pop("demo-call-lost")
    assert (lost.s3_url, marks[lost.id or 0].state) == ("", "missing")
    assert len(by_name) == 3
    for recording in by_name.values():
        mark = marks[recording.id or 0]
        assert mark.state == "relocated"
        stored = tmp_path / "demo-recordings" / f"recordings/{recording.id}.wav"
        assert recording.s3_url == stored.as_uri()
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == mark.sha256


def test_the_demo_sends_every_kind_of_mail_once_as_eml_files(tmp_path: Path) -> None:
    ctx = prepare(tmp_path / "demo.sqlite3", clock=FixedClock(NOW))
    run_services(ctx, list(installed_services().values()))
    with UnitOfWork(ctx.engine) as uow:
        rows = uow.session.execute(select(Notification)).scalars().all()
    assert {row.state for row in rows} == {"sent"}
    assert {row.kind for row in rows} == set(KINDS) - {"workspace_account_suspended"}
    mails = [message_from_bytes(f.read_bytes()) for f in (tmp_path / "demo-mail").glob("*.eml")]
    assert sorted(str(m["Message-ID"]) for m in mails) == sorted(row.message_id for row in rows)
    assert all(m["To"] for m in mails)


def test_the_demo_runs_every_maintenance_job_through_the_broker(tmp_path: Path) -> None:
    ctx = prepare(tmp_path / "demo.sqlite3", clock=FixedClock(NOW))

    run_services(ctx, list(installed_services().values()))

    with UnitOfWork(ctx.engine) as uow:
        runs = uow.session.execute(
            select(JobRun.job, JobRun.state, JobRun.message_id).where(
                col(JobRun.job).like("maintenance.%"), col(JobRun.run_key).like("manual:%")
            )
        ).all()
        emails = set(uow.session.execute(select(col(User.email))).scalars())
        outbox = uow.session.execute(select(col(OutboxMessage.event_id))).scalars().all()
    assert {(job, state) for job, state, _ in runs} == {
        ("maintenance.purge_logs", "succeeded"),
        ("maintenance.retention", "succeeded"),
        ("maintenance.cleanup_users", "succeeded"),
        ("maintenance.relocate_recordings", "succeeded"),
    }
    assert all(message_id for *_, message_id in runs)
    assert "made-one-call@example.com" in emails  # his call keeps him
    assert "never-came-back@example.com" not in emails
    assert "demo-old-event" not in outbox  # a year-old published event is gone
    with UnitOfWork(ctx.engine) as uow:
        unpublished = uow.session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.published_at).is_(None))
        ).scalar_one()
    assert unpublished == 0  # every event billing wrote was relayed by the demo


def test_the_demo_ends_with_commands_that_explore_its_own_database(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    database = tmp_path / "d.sqlite3"
    demo = subprocess.run(
        [CLI, "demo", "--database", str(database), "--now", "2026-11-23T12:00:00"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    commands = [
        line.strip()
        for line in demo.stdout.split("Explore what the demo did", 1)[1].splitlines()
        if line.strip().startswith("DATABASE_URL=")
    ]
    assert len(commands) >= 5
    assert "Initech" in demo.stdout  # the annual subscription is shown, not due yet
    assert "(annual)" in demo.stdout

    for command in commands:  # as printed, in a shell, from where the demo ran
        done = subprocess.run(
            ["bash", "-c", command], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command
    ran = subprocess.run(
        ["bash", "-c", commands[0]], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert "maintenance.purge_logs" in ran.stdout  # the runs the demo made, not an empty file


def test_a_command_pointed_at_a_missing_database_file_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "typo.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{missing}",
    }
    for command in (["status"], ["dlq", "list"], ["db", "upgrade"]):
        done = subprocess.run(
            [CLI, *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 1, command
        assert done.stderr.strip().splitlines() == [
            f"lineblocs-jobs: no SQLite database at {missing} (DATABASE_URL): create one with "
            "`lineblocs-jobs db setup`, or use the demo's (`make demo` prints its DATABASE_URL)"
        ]
    assert not missing.exists()

"""The maintenance service's part of `lineblocs-jobs demo`: each job's message through the
in-process broker, run by the real actors, and what each left behind."""

from __future__ import annotations

import importlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.demo_relocation import (
    demo_media_server,
    recordings_folder,
    relocate_demo_recordings,
)
from lineblocs_maintenance.demo_seed import DemoUsers, seed_housekeeping
from lineblocs_maintenance.schedules import CLEANUP_USERS_JOB, PURGE_LOGS_JOB, RETENTION_JOB
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.contracts import (
    APPLY_RETENTION,
    CLEANUP_USERS,
    PURGE_LOGS,
    ApplyRetention,
    CleanupUsers,
    PurgeLogs,
)
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import DemoContext
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.models.tenants import User
from lineblocs_shared.queue.broker import declare_actors
from lineblocs_shared.settings import load


def demo_step(ctx: DemoContext) -> None:
    """Each job through the broker and the real actors: the housekeeping jobs, then the
    recordings' relocation from a fake media server to a local folder."""
    media_server = demo_media_server()
    options = load(MaintenanceSettings).model_copy(
        update={
            "recording_storage_override": "local",
            "recording_local_dir": recordings_folder(ctx),
        }
    )
    deps = bootstrap.build(
        ctx.settings, engine=ctx.engine, clock=ctx.clock, options=options, ari=media_server
    )
    bootstrap.install(deps)
    actors = importlib.import_module("lineblocs_maintenance.actors")  # binds to the demo's broker
    # An earlier broker of this process (tests, the demo) may have them already.
    declare_actors(ctx.broker, actors.MAINTENANCE_ACTORS)
    _housekeeping(ctx)
    relocate_demo_recordings(ctx, media_server)


def _housekeeping(ctx: DemoContext) -> None:
    """Seed what each job has to do, send the three job messages, report the outcomes."""
    logs_before = _count_logs(ctx)
    users = seed_housekeeping(ctx.engine, now=ctx.clock.now())
    PURGE_LOGS.send(ctx.broker, PurgeLogs())
    APPLY_RETENTION.send(ctx.broker, ApplyRetention())
    CLEANUP_USERS.send(ctx.broker, CleanupUsers())
    ctx.run_queued_messages()
    _report_logs(ctx, logs_before)
    _report_retention(ctx)
    _report_users(ctx, users)


def _last_run(ctx: DemoContext, job: str) -> tuple[str, dict[str, Any]]:
    with UnitOfWork(ctx.engine) as uow:
        runs = uow.job_runs.recent(job=job, limit=1)
    if not runs:
        return "missing", {}
    return runs[0].state, json.loads(runs[0].summary or "{}")


def _count_logs(ctx: DemoContext) -> dict[str, int]:
    with UnitOfWork(ctx.engine) as uow:
        return {
            model.__tablename__: uow.session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (DebuggerLog, ErrorUserTrace)
        }


def _report_logs(ctx: DemoContext, before: dict[str, int]) -> None:
    state, summary = _last_run(ctx, PURGE_LOGS_JOB.name)
    after = _count_logs(ctx)
    ctx.report(
        f"Maintenance — log retention (before {str(summary.get('cutoff', '?'))[:16]})",
        ("table", "before", "deleted", "kept", "run"),
        [
            (name, str(before[name]), str(before[name] - after[name]), str(after[name]), state)
            for name in before
        ],
    )


def _report_retention(ctx: DemoContext) -> None:
    state, summary = _last_run(ctx, RETENTION_JOB.name)
    tables = {k: v for k, v in summary.items() if k.startswith("lbj_")}
    ctx.report(
        "Maintenance — retention of our own tables (money and audit records never)",
        ("table", "deleted", "run"),
        [(table, str(rows), state) for table, rows in tables.items()],
    )


def _report_users(ctx: DemoContext, users: DemoUsers) -> None:
    state, summary = _last_run(ctx, CLEANUP_USERS_JOB.name)
    reasons = ", ".join(summary.get("kept_because", {})) or "-"
    with UnitOfWork(ctx.engine) as uow:
        left = set(uow.session.execute(select(col(User.email))).scalars())
    ctx.report(
        "Maintenance — users who never set a password (asked 10 days ago)",
        ("user", "has", "outcome", "run"),
        [
            (email, has, "kept: " + reasons if email in left else "deleted", state)
            for email, has in users.items()
        ],
    )

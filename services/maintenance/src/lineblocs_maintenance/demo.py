"""The maintenance service's part of `lineblocs-jobs demo`."""

from __future__ import annotations

import importlib
import json

from sqlalchemy import func, select

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.demo_relocation import (
    demo_media_server,
    recordings_folder,
    relocate_demo_recordings,
)
from lineblocs_maintenance.schedules import PURGE_LOGS_JOB
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import DemoContext
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.queue.broker import declare_actors
from lineblocs_shared.settings import load


def demo_step(ctx: DemoContext) -> None:
    """Purge old logs, then relocate recordings, through the broker and the real actors."""
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
    _purge_logs(ctx)
    relocate_demo_recordings(ctx, media_server)


def _purge_logs(ctx: DemoContext) -> None:
    before = _count_logs(ctx)
    PURGE_LOGS.send(ctx.broker, PurgeLogs())
    ctx.run_queued_messages()
    after = _count_logs(ctx)
    with UnitOfWork(ctx.engine) as uow:
        runs = uow.job_runs.recent(job=PURGE_LOGS_JOB.name, limit=1)
    summary = json.loads(runs[0].summary or "{}") if runs else {}
    ctx.report(
        f"Maintenance — log retention (before {summary.get('cutoff', '?')[:16]})",
        ("table", "before", "deleted", "kept", "run"),
        [
            (
                name,
                str(before[name]),
                str(before[name] - after[name]),
                str(after[name]),
                runs[0].state if runs else "missing",
            )
            for name in before
        ],
    )


def _count_logs(ctx: DemoContext) -> dict[str, int]:
    with UnitOfWork(ctx.engine) as uow:
        return {
            model.__tablename__: uow.session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (DebuggerLog, ErrorUserTrace)
        }

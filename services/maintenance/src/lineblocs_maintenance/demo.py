"""The maintenance service's part of `lineblocs-jobs demo`."""

from __future__ import annotations

import importlib
import json

from sqlalchemy import func, select

from lineblocs_maintenance import bootstrap
from lineblocs_maintenance.schedules import PURGE_LOGS_JOB
from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.demo.runner import DemoContext
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.queue.broker import declare_actors


def demo_step(ctx: DemoContext) -> None:
    """Send a log-retention message through the broker and let the real actor purge."""
    bootstrap.install(bootstrap.build(ctx.settings, engine=ctx.engine, clock=ctx.clock))
    actors = importlib.import_module("lineblocs_maintenance.actors")  # binds to the demo's broker
    declare_actors(ctx.broker, [actors.purge_logs])  # an earlier broker of this process may have it
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

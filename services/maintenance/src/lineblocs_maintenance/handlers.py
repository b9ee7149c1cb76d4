"""Maintenance jobs as plain functions: the actors only unpack messages and call these."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from lineblocs_maintenance.composition import Maintenance
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.uow import UnitOfWork

PURGE_LOGS_JOB = "maintenance.purge_logs"


@dataclass(frozen=True)
class PurgeResult:
    cutoff: str
    debugger_logs: int
    error_user_traces: int


def purge_logs(
    deps: Maintenance, *, retention_days: int | None = None, message_id: str | None = None
) -> PurgeResult:
    """Delete debugger logs and user error traces created before now - retention.

    The Go job deleted every log (its cutoff was computed from the zero time); PHP kept 7 days.
    Batches commit one by one, so a long purge never holds a long lock and a crash resumes.
    """
    days = retention_days or deps.options.log_retention_days
    cutoff = deps.clock.now() - timedelta(days=days)
    run_key = message_id or cutoff.strftime("%Y-%m-%dT%H:%M")
    with UnitOfWork(deps.engine) as uow:
        run = uow.job_runs.start(job=PURGE_LOGS_JOB, run_key=run_key, message_id=message_id)
        uow.commit()
    counts = {
        model: _purge_table(deps, model=model, cutoff=cutoff)
        for model in (DebuggerLog, ErrorUserTrace)
    }
    result = PurgeResult(
        cutoff=cutoff.isoformat(),
        debugger_logs=counts[DebuggerLog],
        error_user_traces=counts[ErrorUserTrace],
    )
    with UnitOfWork(deps.engine) as uow:
        uow.session.add(run)
        uow.job_runs.succeed(run=run, summary=asdict(result))
        uow.commit()
    return result


def _purge_table(deps: Maintenance, *, model: type, cutoff: object) -> int:
    total = 0
    while True:
        with UnitOfWork(deps.engine) as uow:
            deleted = uow.retention.delete_batch_older_than(
                model=model,
                cutoff=cutoff,  # type: ignore[arg-type]
                batch_size=deps.options.retention_batch_size,
            )
            uow.commit()
        total += deleted
        if deleted < deps.options.retention_batch_size:
            return total

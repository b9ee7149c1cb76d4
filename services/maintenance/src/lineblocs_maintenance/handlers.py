"""Maintenance jobs as plain functions: the actors only unpack messages and call these."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_maintenance.relocation import relocate, sweep
from lineblocs_maintenance.relocation.sweep import RelocationSweepReport
from lineblocs_maintenance.schedules import PURGE_LOGS_JOB, RELOCATE_RECORDINGS_JOB
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace
from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.failures.taxonomy import TransientError
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner


@dataclass(frozen=True)
class PurgeResult:
    cutoff: str
    debugger_logs: int
    error_user_traces: int

    def summary(self) -> dict[str, object]:
        """The run ledger's summary (JSON)."""
        return asdict(self)


def purge_logs(
    deps: Maintenance, *, retention_days: int | None = None, trigger: Trigger | None = None
) -> PurgeResult | None:
    """Purge logs once per period (periodiq tick) or once per manual message.

    Returns what was purged, or None when another message already holds this period.
    """
    days = retention_days or deps.options.log_retention_days

    def purge_period(period: Period) -> PurgeResult:
        return purge_logs_before(deps, cutoff=period.at - timedelta(days=days))

    runner = PeriodicRunner(engine=deps.engine, clock=deps.clock)
    return runner.run_reporting(PURGE_LOGS_JOB, purge_period, trigger=trigger or Trigger())


def purge_logs_before(deps: Maintenance, *, cutoff: datetime) -> PurgeResult:
    """Delete debugger logs and user error traces created before `cutoff`.

    The Go job deleted every log (its cutoff was computed from the zero time); PHP kept 7 days.
    Batches commit one by one, so a long purge never holds a long lock and a crash resumes.
    """
    counts = {
        model: _purge_table(deps, model=model, cutoff=cutoff)
        for model in (DebuggerLog, ErrorUserTrace)
    }
    return PurgeResult(
        cutoff=cutoff.isoformat(),
        debugger_logs=counts[DebuggerLog],
        error_user_traces=counts[ErrorUserTrace],
    )


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


class RelocationSweepIncomplete(TransientError):
    """The broker refused some of a sweep's messages: the retry sweeps again."""

    def __init__(self, report: RelocationSweepReport) -> None:
        super().__init__(f"{report.failed} recording relocation message(s) not published")
        self.report = report


def relocate_recordings(
    deps: Maintenance, publisher: MessagePublisher, *, trigger: Trigger | None = None
) -> RelocationSweepReport | None:
    """Queue one relocation per recording due, once per period (or per manual run); None when
    another message holds the period. The store is checked first: settings missing or refused
    fail the run (one dead letter, one alert) before anything is queued."""

    def one_period(period: Period) -> RelocationSweepReport:
        deps.relocation().store.check()
        report = sweep.sweep(
            deps.engine,
            now=period.at,
            max_attempts=deps.options.recording_relocation_max_attempts,
            page_size=deps.options.recording_relocation_page_size,
            publisher=publisher,
        )
        if report.failed:
            raise RelocationSweepIncomplete(report)
        return report

    runner = PeriodicRunner(engine=deps.engine, clock=deps.clock)
    return runner.run_reporting(RELOCATE_RECORDINGS_JOB, one_period, trigger=trigger or Trigger())


def relocations_due(deps: Maintenance) -> RelocationSweepReport:
    """What a sweep would queue now: found and counted; no claim, no message."""
    options = deps.options
    return sweep.sweep(
        deps.engine,
        now=deps.clock.now(),
        max_attempts=options.recording_relocation_max_attempts,
        page_size=options.recording_relocation_page_size,
        publisher=None,
    )


def relocate_recording(deps: Maintenance, *, recording_id: int) -> str:
    """Relocate one recording (see `relocation.relocate`)."""
    return relocate.relocate_recording(deps.relocation(), recording_id)

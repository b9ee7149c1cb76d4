"""Maintenance jobs as plain functions: the actors only unpack messages and call these, and so
do the operators' commands (`lineblocs-jobs maintenance …`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from lineblocs_maintenance.batches import OnBatch
from lineblocs_maintenance.bootstrap import Maintenance
from lineblocs_maintenance.logs import PurgeResult, purge_logs_before
from lineblocs_maintenance.relocation import relocate, sweep
from lineblocs_maintenance.relocation.sweep import RelocationSweepReport
from lineblocs_maintenance.retention import RetentionResult, apply_retention
from lineblocs_maintenance.schedules import (
    CLEANUP_USERS_JOB,
    PURGE_LOGS_JOB,
    RELOCATE_RECORDINGS_JOB,
    RETENTION_JOB,
)
from lineblocs_maintenance.users.cleanup import CleanupReport, cleanup_users
from lineblocs_shared.queue.bulk import MessagePublisher
from lineblocs_shared.reliability.failures.taxonomy import TransientError
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner


def _runner(deps: Maintenance) -> PeriodicRunner:
    return PeriodicRunner(engine=deps.engine, clock=deps.clock)


def purge_logs(
    deps: Maintenance,
    *,
    retention_days: int | None = None,
    trigger: Trigger | None = None,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> PurgeResult | None:
    """Purge logs once per period (periodiq tick) or once per manual message; on a dry run,
    count what would go now (no claim, nothing deleted).

    Returns what was purged, or None when another message already holds this period.
    """
    days = retention_days or deps.options.log_retention_days

    def purge(at: datetime) -> PurgeResult:
        return purge_logs_before(
            deps.engine,
            cutoff=at - timedelta(days=days),
            batch_size=deps.options.retention_batch_size,
            dry_run=dry_run,
            on_batch=on_batch,
        )

    if dry_run:
        return purge(deps.clock.now())
    return _runner(deps).run_reporting(
        PURGE_LOGS_JOB, lambda period: purge(period.at), trigger=trigger or Trigger()
    )


def retention(
    deps: Maintenance,
    *,
    trigger: Trigger | None = None,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> RetentionResult | None:
    """Our own tables past their retention, once per period (or counted, on a dry run)."""

    def apply(at: datetime) -> RetentionResult:
        return apply_retention(
            deps.engine, deps.options, now=at, dry_run=dry_run, on_batch=on_batch
        )

    if dry_run:
        return apply(deps.clock.now())
    return _runner(deps).run_reporting(
        RETENTION_JOB, lambda period: apply(period.at), trigger=trigger or Trigger()
    )


def cleanup(
    deps: Maintenance,
    *,
    trigger: Trigger | None = None,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> CleanupReport | None:
    """Users who never set a password, deleted once per period (judged only, on a dry run)."""

    def clean(at: datetime) -> CleanupReport:
        return cleanup_users(
            deps.engine,
            now=at,
            days=deps.options.unset_password_days,
            batch_size=deps.options.cleanup_batch_size,
            dry_run=dry_run,
            on_batch=on_batch,
        )

    if dry_run:
        return clean(deps.clock.now())
    return _runner(deps).run_reporting(
        CLEANUP_USERS_JOB, lambda period: clean(period.at), trigger=trigger or Trigger()
    )


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

    return _runner(deps).run_reporting(
        RELOCATE_RECORDINGS_JOB, one_period, trigger=trigger or Trigger()
    )


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

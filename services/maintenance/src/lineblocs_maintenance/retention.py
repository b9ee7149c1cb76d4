"""Retention of our own housekeeping tables, each with its own setting.

What goes: published outbox rows, processed-event records, finished job runs (their events go
with them), dead letters an operator resolved by replaying them. What never goes: payment
attempts, billing periods, the notification ledger and opt-outs (money and audit records), dead
letters still unresolved, outbox rows not yet published, and the latest run of every job (the
periodic catch-up reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Table, func, select

from lineblocs_maintenance.batches import OnBatch, purge_where
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.models.jobs import (
    DeadLetter,
    DeadLetterStatus,
    JobRun,
    OutboxMessage,
    ProcessedEvent,
    RunState,
)

FINISHED_RUNS = (RunState.SUCCEEDED, RunState.FAILED, RunState.DEAD, RunState.SKIPPED)


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def _outbox(cutoff: datetime) -> ColumnElement[bool]:
    t = _table(OutboxMessage)
    return t.c.published_at.is_not(None) & (t.c.published_at < cutoff)


def _processed(cutoff: datetime) -> ColumnElement[bool]:
    return _table(ProcessedEvent).c.processed_at < cutoff


def _job_runs(cutoff: datetime) -> ColumnElement[bool]:
    t = _table(JobRun)
    # Through a derived table: MySQL refuses a DELETE whose subquery reads the same table.
    latest = select(func.max(t.c.id).label("id")).group_by(t.c.job).subquery("latest")
    latest_of_each_job = select(latest.c.id)
    finished = t.c.state.in_([s.value for s in FINISHED_RUNS])
    old = func.coalesce(t.c.finished_at, t.c.updated_at) < cutoff
    return finished & old & t.c.id.not_in(latest_of_each_job)


def _dead_letters(cutoff: datetime) -> ColumnElement[bool]:
    t = _table(DeadLetter)
    return (t.c.status == DeadLetterStatus.REPLAYED.value) & (t.c.replayed_at < cutoff)


@dataclass(frozen=True)
class Policy:
    table: Table
    days: Callable[[MaintenanceSettings], int]
    where: Callable[[datetime], ColumnElement[bool]]


POLICIES = (
    Policy(_table(OutboxMessage), lambda o: o.outbox_retention_days, _outbox),
    Policy(_table(ProcessedEvent), lambda o: o.processed_events_retention_days, _processed),
    Policy(_table(JobRun), lambda o: o.job_runs_retention_days, _job_runs),
    Policy(_table(DeadLetter), lambda o: o.dead_letters_retention_days, _dead_letters),
)


@dataclass
class RetentionResult:
    now: str
    dry_run: bool = False
    deleted: dict[str, int] = field(default_factory=dict)  # by table
    cutoffs: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """The run ledger's summary (JSON)."""
        return {"now": self.now, "dry_run": self.dry_run, **self.deleted}


def apply_retention(
    engine: Engine,
    options: MaintenanceSettings,
    *,
    now: datetime,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> RetentionResult:
    """Delete (or count) what each policy no longer keeps at `now`."""
    result = RetentionResult(now=now.isoformat(), dry_run=dry_run)
    for policy in POLICIES:
        cutoff = now - timedelta(days=policy.days(options))
        result.cutoffs[policy.table.name] = cutoff.isoformat()
        result.deleted[policy.table.name] = purge_where(
            engine,
            policy.table,
            policy.where(cutoff),
            batch_size=options.retention_batch_size,
            dry_run=dry_run,
            on_batch=on_batch,
        )
    return result

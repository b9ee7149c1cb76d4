"""Readers of the job-run ledger for the periodic-job tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import JobRun


@dataclass(frozen=True)
class RunRow:
    run_key: str
    state: str
    attempts: int
    message_id: str | None
    scheduled_for: datetime | None


def ledger(engine: Engine, job: str) -> list[RunRow]:
    """The job's runs, oldest period first (manual runs last, by id)."""
    with LedgerUnit(engine) as uow:
        runs = uow.session.execute(select(JobRun).where(JobRun.job == job)).scalars().all()
    ordered = sorted(runs, key=lambda r: (r.scheduled_for is None, r.scheduled_for, r.id))
    return [
        RunRow(r.run_key, str(r.state), r.attempts, r.message_id, r.scheduled_for) for r in ordered
    ]


def transitions(engine: Engine, job: str, run_key: str) -> list[tuple[str | None, str]]:
    with LedgerUnit(engine) as uow:
        run = uow.job_runs.get(job=job, run_key=run_key)
        assert run is not None
        assert run.id is not None
        return [(e.from_state, e.to_state) for e in uow.job_runs.events(run_id=run.id)]

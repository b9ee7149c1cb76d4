"""The job-run ledger: each run's state, attempts and errors, with an append-only event log.

Periodic runs also use a run as their claim: (job, run_key) is unique, so the INSERT of a run is
the claim of its period, and a conditional UPDATE (`take_over`) is how a failed, queued or
abandoned claim changes hands without two workers both winning it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from lineblocs_shared.models.base import utcnow
from lineblocs_shared.models.jobs import JobRun, JobRunEvent, RunState

FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.DEAD, RunState.SKIPPED})


class JobRunRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def get(self, *, job: str, run_key: str) -> JobRun | None:
        stmt = select(JobRun).where(col(JobRun.job) == job, col(JobRun.run_key) == run_key)
        return self._session.execute(stmt).scalars().first()

    def start(self, *, job: str, run_key: str, message_id: str | None = None) -> JobRun:
        """The run of (job, run_key), now RUNNING with one more attempt."""
        run = self.get(job=job, run_key=run_key)
        if run is None:
            run = JobRun(job=job, run_key=run_key, message_id=message_id)
            self._session.add(run)
            self._session.flush()
        run.attempts += 1
        run.started_at = utcnow()
        run.message_id = message_id or run.message_id
        self._transition(run, RunState.RUNNING, detail=f"attempt {run.attempts}")
        return run

    def succeed(self, *, run: JobRun, summary: dict[str, Any], at: datetime | None = None) -> None:
        run.summary = json.dumps(summary, sort_keys=True, default=str)
        run.finished_at = at or utcnow()
        self._transition(run, RunState.SUCCEEDED, detail=run.summary, at=at)

    def fail(
        self, *, run: JobRun, error: str, dead: bool = False, at: datetime | None = None
    ) -> None:
        run.last_error = error
        run.finished_at = at or utcnow()
        to = RunState.DEAD if dead else RunState.FAILED
        self._transition(run, to, detail=error[:2000], at=at)

    def events(self, *, run_id: int) -> Sequence[JobRunEvent]:
        stmt = select(JobRunEvent).where(col(JobRunEvent.run_id) == run_id)
        return self._session.execute(stmt.order_by(col(JobRunEvent.id))).scalars().all()

    def recent(self, *, limit: int = 20, job: str | None = None) -> Sequence[JobRun]:
        stmt = select(JobRun).order_by(col(JobRun.id).desc()).limit(limit)
        if job is not None:
            stmt = stmt.where(col(JobRun.job) == job)
        return self._session.execute(stmt).scalars().all()

    # --- claims of periodic (and manual) runs ------------------------------------------------

    def claim_new(
        self,
        *,
        job: str,
        run_key: str,
        message_id: str | None,
        claimed_by: str,
        scheduled_for: datetime | None,
        at: datetime,
    ) -> JobRun:
        """INSERT the run as RUNNING, attempt 1. A taken (job, run_key) raises IntegrityError."""
        run = JobRun(
            job=job,
            run_key=run_key,
            attempts=1,
            message_id=message_id,
            claimed_by=claimed_by,
            scheduled_for=scheduled_for,
            created_at=at,
            started_at=at,
        )
        self._transition(run, RunState.RUNNING, detail=f"claimed by {claimed_by}", at=at)
        return run

    def take_over(
        self, *, run: JobRun, message_id: str | None, claimed_by: str, at: datetime, reason: str
    ) -> JobRun | None:
        """RUNNING again with one more attempt, only if the row is still as `run` saw it.

        The WHERE on (state, attempts) makes this a compare-and-swap: of two workers that read
        the same failed claim, one updates a row and the other updates none and backs off.
        """
        assert run.id is not None
        stmt = (
            update(JobRun)
            .where(
                col(JobRun.id) == run.id,
                col(JobRun.state) == run.state,
                col(JobRun.attempts) == run.attempts,
            )
            .values(
                state=RunState.RUNNING,
                attempts=run.attempts + 1,
                message_id=message_id,
                claimed_by=claimed_by,
                started_at=at,
                finished_at=None,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        if self._session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            return None
        self._add_event(run.id, run.state, RunState.RUNNING, detail=reason, at=at)
        return self._session.get(JobRun, run.id, populate_existing=True)

    def restart(self, *, run: JobRun, at: datetime) -> None:
        """Stamp a claimed run's start again (its work begins after a catch-up)."""
        run.started_at = at
        run.updated_at = at
        self._session.add(run)
        self._session.flush()

    def last_tick_before(self, *, job: str, tick: datetime) -> datetime | None:
        """The latest period of `job` claimed (in any state) before `tick`."""
        stmt = select(func.max(col(JobRun.scheduled_for))).where(
            col(JobRun.job) == job, col(JobRun.scheduled_for) < tick
        )
        latest: datetime | None = self._session.execute(stmt).scalar_one()
        return latest

    def existing_keys(self, *, job: str, run_keys: Iterable[str]) -> set[str]:
        keys = list(run_keys)
        if not keys:
            return set()
        stmt = select(col(JobRun.run_key)).where(
            col(JobRun.job) == job, col(JobRun.run_key).in_(keys)
        )
        return set(self._session.execute(stmt).scalars().all())

    def add_missed(
        self, *, job: str, periods: Sequence[tuple[str, datetime]], state: RunState, at: datetime
    ) -> None:
        """Record missed periods as QUEUED (to run) or SKIPPED; a taken key: IntegrityError."""
        for run_key, tick in periods:
            run = JobRun(job=job, run_key=run_key, scheduled_for=tick, created_at=at)
            self._transition(run, state, detail="missed: no scheduler sent this period", at=at)

    def pending_catch_up(
        self, *, job: str, after: datetime, before: datetime, message_id: str | None
    ) -> Sequence[JobRun]:
        """Periods still to run, oldest first: queued (missed) or failed ones, and ones this
        message began (a redelivery after a kill finds them RUNNING under its own id).
        """
        mine = (col(JobRun.state) == RunState.RUNNING) & (col(JobRun.message_id) == message_id)
        stmt = (
            select(JobRun)
            .where(
                col(JobRun.job) == job,
                col(JobRun.scheduled_for) > after,
                col(JobRun.scheduled_for) < before,
                col(JobRun.state).in_([RunState.QUEUED, RunState.FAILED]) | mine,
            )
            .order_by(col(JobRun.scheduled_for))
        )
        return self._session.execute(stmt).scalars().all()

    def mark_dead_for_message(self, *, message_id: str, error: str) -> int:
        """A dead-lettered message's unfinished runs become DEAD; returns how many."""
        stmt = select(JobRun).where(
            col(JobRun.message_id) == message_id,
            col(JobRun.state).in_([RunState.RUNNING, RunState.FAILED, RunState.QUEUED]),
        )
        runs = self._session.execute(stmt).scalars().all()
        for run in runs:
            self.fail(run=run, error=error, dead=True)
        return len(runs)

    # --- reporting --------------------------------------------------------------------------

    def latest_by_job(self, *, limit: int, job: str | None = None) -> dict[str, list[JobRun]]:
        """The `limit` newest runs of each job (by period, then id), jobs in name order."""
        jobs_stmt = select(col(JobRun.job)).distinct().order_by(col(JobRun.job))
        if job is not None:
            jobs_stmt = jobs_stmt.where(col(JobRun.job) == job)
        newest_first = (
            func.coalesce(col(JobRun.scheduled_for), col(JobRun.created_at)).desc(),
            col(JobRun.id).desc(),
        )
        latest: dict[str, list[JobRun]] = {}
        for name in self._session.execute(jobs_stmt).scalars().all():
            stmt = select(JobRun).where(col(JobRun.job) == name).order_by(*newest_first)
            latest[name] = list(self._session.execute(stmt.limit(limit)).scalars().all())
        return latest

    def _transition(
        self, run: JobRun, to: RunState, *, detail: str | None, at: datetime | None = None
    ) -> None:
        previous = run.state if run.id is not None else None
        run.state = to
        run.updated_at = at or utcnow()
        self._session.add(run)
        self._session.flush()
        assert run.id is not None
        self._add_event(run.id, previous, to, detail=detail, at=run.updated_at)

    def _add_event(
        self, run_id: int, from_state: str | None, to: RunState, *, detail: str | None, at: datetime
    ) -> None:
        self._session.add(
            JobRunEvent(run_id=run_id, at=at, from_state=from_state, to_state=to, detail=detail)
        )
        self._session.flush()

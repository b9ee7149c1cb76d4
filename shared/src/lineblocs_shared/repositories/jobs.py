"""The job-run ledger: each run's state, attempts and errors, with an append-only event log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from lineblocs_shared.models.base import utcnow
from lineblocs_shared.models.jobs import JobRun, JobRunEvent, RunState

FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.DEAD})


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

    def succeed(self, *, run: JobRun, summary: dict[str, Any]) -> None:
        run.summary = json.dumps(summary, sort_keys=True, default=str)
        run.finished_at = utcnow()
        self._transition(run, RunState.SUCCEEDED, detail=run.summary)

    def fail(self, *, run: JobRun, error: str, dead: bool = False) -> None:
        run.last_error = error
        run.finished_at = utcnow()
        self._transition(run, RunState.DEAD if dead else RunState.FAILED, detail=error[:2000])

    def events(self, *, run_id: int) -> Sequence[JobRunEvent]:
        stmt = select(JobRunEvent).where(col(JobRunEvent.run_id) == run_id)
        return self._session.execute(stmt.order_by(col(JobRunEvent.id))).scalars().all()

    def recent(self, *, limit: int = 20, job: str | None = None) -> Sequence[JobRun]:
        stmt = select(JobRun).order_by(col(JobRun.id).desc()).limit(limit)
        if job is not None:
            stmt = stmt.where(col(JobRun.job) == job)
        return self._session.execute(stmt).scalars().all()

    def _transition(self, run: JobRun, to: RunState, *, detail: str | None) -> None:
        previous = run.state if run.id is not None else None
        run.state = to
        run.updated_at = utcnow()
        self._session.add(run)
        self._session.flush()
        assert run.id is not None
        self._session.add(
            JobRunEvent(run_id=run.id, from_state=previous, to_state=to, detail=detail)
        )
        self._session.flush()

"""Once-per-period jobs on top of periodiq: claim the period, catch up, record the run.

periodiq enqueues a periodic actor's message on each cron tick, with no lock and no memory: two
schedulers send every tick twice, a scheduler that was down sends nothing for the ticks it
missed. The thin actor therefore hands each message to `PeriodicRunner.run`, which
1. claims (job, period) in the ledger (`lbj_job_runs`, unique on job + run key); a duplicate
   message finds the claim taken and does nothing (see `periodic_claims` for take-overs);
2. looks for ticks missed since the job's last claimed period (bounded by the job's
   `max_missed` and `max_catch_up_age`) and applies its policy: `catch_up="all"` runs each
   missed period, oldest first, each claimed as its own run; `"latest"` runs only this period
   and records the missed ones as skipped. A job never claimed before starts at this period.
   With "all", an earlier period left failed (its retry dropped, e.g. by periodiq's skip_delay)
   is run again too: it was not done, and its claim allows a take-over;
3. runs the plain handler for each claimed period and records success or failure (failed, or
   dead when the error is fatal) with the error text; a failure re-raises so Dramatiq retries the
   message, and the retry, having the same message id, continues the same claims.
A message without `scheduled_at` is a manual trigger: it runs once per message, keyed
`manual:<message id>`, and takes no part in catch-up.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from lineblocs_shared.clock import Clock
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import JobRun, RunState
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from lineblocs_shared.reliability.periodic.claims import ClaimRequest, ClaimStore
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob, Trigger
from lineblocs_shared.reliability.periodic.ticks import missed_ticks, parse_tick, period_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    """What a handler is asked to do: one period of one job."""

    job: str
    run_key: str
    run_id: int
    attempt: int
    tick: datetime | None  # None for a manual run
    at: datetime  # the instant the run stands for: its tick, or the claim time of a manual run
    catching_up: bool = False


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    DUPLICATE = "duplicate"  # another message holds or finished this period: nothing done


@dataclass(frozen=True)
class RunOutcome:
    run_key: str
    outcome: Outcome
    summary: Mapping[str, Any] | None = None


Handler = Callable[[Period], Mapping[str, Any]]


class RunReport(Protocol):
    """What a reporting job's work returns: the run ledger keeps its summary."""

    def summary(self) -> Mapping[str, Any]: ...


R = TypeVar("R", bound=RunReport)


def default_claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PeriodicRunner:
    """Runs a job's handler once per period; share one per process (it keeps no state)."""

    def __init__(self, *, engine: Engine, clock: Clock, claimed_by: str | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._claims = ClaimStore(
            engine=engine, clock=clock, claimed_by=claimed_by or default_claimant()
        )

    def run(self, job: PeriodicJob, handler: Handler, *, trigger: Trigger) -> list[RunOutcome]:
        """Run what `trigger` asks of `job`: outcomes oldest period first."""
        if trigger.scheduled_at is None:
            key = f"manual:{trigger.message_id or uuid.uuid4().hex}"
            run = self._claims.claim(self._request(job, key, None, trigger))
            if run is None:
                return [RunOutcome(key, Outcome.DUPLICATE)]
            return [self._execute(job, run, handler)]

        tick = parse_tick(trigger.scheduled_at)
        key = period_key(tick)
        current = self._claims.claim(self._request(job, key, tick, trigger))
        if current is None:
            return [RunOutcome(key, Outcome.DUPLICATE)]
        outcomes = self._catch_up(job, handler, current=current, trigger=trigger)
        if outcomes:
            with LedgerUnit(self._engine) as uow:
                uow.session.add(current)
                uow.job_runs.restart(run=current, at=self._clock.now())
                uow.commit()
        return [*outcomes, self._execute(job, current, handler)]

    def run_reporting(
        self, job: PeriodicJob, work: Callable[[Period], R], *, trigger: Trigger
    ) -> R | None:
        """`run` for work that returns a report: the last period's report, or None when another
        message holds the period. Work that must fail its run raises (the run is retried)."""
        reports: list[R] = []

        def handler(period: Period) -> Mapping[str, Any]:
            reports.append(work(period))
            return reports[-1].summary()

        outcomes = self.run(job, handler, trigger=trigger)
        done = any(o.outcome is Outcome.SUCCEEDED for o in outcomes)
        return reports[-1] if done and reports else None

    def _catch_up(
        self, job: PeriodicJob, handler: Handler, *, current: JobRun, trigger: Trigger
    ) -> list[RunOutcome]:
        assert current.scheduled_for is not None
        tick = current.scheduled_for
        self._record_missed(job, tick=tick)
        if job.catch_up != "all":
            return []
        with LedgerUnit(self._engine) as uow:
            pending = uow.job_runs.pending_catch_up(
                job=job.name,
                after=tick - job.max_catch_up_age,
                before=tick,
                message_id=trigger.message_id,
            )
        outcomes = []
        for missed in pending:
            request = self._request(job, missed.run_key, missed.scheduled_for, trigger)
            run = self._claims.claim(request, exists=True)
            if run is None:
                outcomes.append(RunOutcome(missed.run_key, Outcome.DUPLICATE))
                continue
            try:
                outcomes.append(self._execute(job, run, handler, catching_up=True))
            except BaseException as exc:
                self._record_failure(current, f"catch-up of {run.run_key} failed: {exc!r}", exc)
                raise
        return outcomes

    def _record_missed(self, job: PeriodicJob, *, tick: datetime) -> None:
        """Write the periods missed before `tick` as queued (catch-up all) or skipped rows."""
        state = RunState.QUEUED if job.catch_up == "all" else RunState.SKIPPED
        for _ in range(3):
            periods = self._unrecorded_missed(job, tick=tick)
            if not periods:
                return
            try:
                with LedgerUnit(self._engine) as uow:
                    uow.job_runs.add_missed(
                        job=job.name, periods=periods, state=state, at=self._clock.now()
                    )
                    uow.commit()
            except IntegrityError:
                continue  # a concurrent catch-up recorded some of them: look again
            log.warning(
                "%s: %d missed period(s) before %s recorded as %s (catch_up=%s)",
                job.name,
                len(periods),
                period_key(tick),
                state,
                job.catch_up,
            )
            return

    def _unrecorded_missed(self, job: PeriodicJob, *, tick: datetime) -> list[tuple[str, datetime]]:
        """(run key, tick) of each period missed since the job's last claim, not yet recorded."""
        with LedgerUnit(self._engine) as uow:
            last = uow.job_runs.last_tick_before(job=job.name, tick=tick)
            if last is None:
                return []  # never claimed before: the job starts at this period
            oldest = max(last, tick - job.max_catch_up_age)
            ticks = missed_ticks(job.spec, after=oldest, before=tick, limit=job.max_missed)
            periods = {period_key(t): t for t in ticks}
            recorded = uow.job_runs.existing_keys(job=job.name, run_keys=periods)
        return [(key, at) for key, at in periods.items() if key not in recorded]

    def _execute(
        self, job: PeriodicJob, run: JobRun, handler: Handler, *, catching_up: bool = False
    ) -> RunOutcome:
        assert run.id is not None
        assert run.started_at is not None
        period = Period(
            job=job.name,
            run_key=run.run_key,
            run_id=run.id,
            attempt=run.attempts,
            tick=run.scheduled_for,
            at=run.scheduled_for or run.started_at,
            catching_up=catching_up,
        )
        try:
            summary = handler(period)
        except BaseException as exc:  # TimeLimitExceeded is a BaseException: record it too
            self._record_failure(run, f"{type(exc).__name__}: {exc}", exc)
            raise
        with LedgerUnit(self._engine) as uow:
            uow.session.add(run)
            uow.job_runs.succeed(run=run, summary=dict(summary), at=self._clock.now())
            uow.commit()
        return RunOutcome(run.run_key, Outcome.SUCCEEDED, summary)

    def _record_failure(self, run: JobRun, error: str, exc: BaseException) -> None:
        dead = isinstance(exc, Exception) and classify(exc) is ErrorKind.FATAL
        with LedgerUnit(self._engine) as uow:
            uow.session.add(run)
            uow.job_runs.fail(run=run, error=error, dead=dead, at=self._clock.now())
            uow.commit()

    def _request(
        self, job: PeriodicJob, key: str, tick: datetime | None, trigger: Trigger
    ) -> ClaimRequest:
        return ClaimRequest(
            job=job.name,
            run_key=key,
            scheduled_for=tick,
            message_id=trigger.message_id,
            lease=job.claim_lease,
        )

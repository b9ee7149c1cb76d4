"""Claims: which worker runs a (job, run key), decided by the database, not by luck.

A claim is the ledger row itself. The first INSERT of (job, run_key) wins; a loser reads the row
and `judge_claim` says whether it may take it over:
- a finished run (succeeded, skipped, dead) is never run again by another message;
- the same message id continues its own claim (a Dramatiq retry, or a redelivery after a kill);
- a failed or queued run is taken over by anyone (attempts + 1);
- a running claim is someone else's work in progress, unless it is older than the job's lease:
  then its worker died (killed, OOM, lost host) and the claim is taken over. The lease must be
  at least the actor's time limit, after which Dramatiq interrupts the run anyway.
A take-over is a compare-and-swap on (state, attempts), so two losers cannot both win it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from lineblocs_shared.clock import Clock
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import JobRun, RunState

log = logging.getLogger(__name__)

# Each lost compare-and-swap means the row changed under us; re-read and judge again.
MAX_CLAIM_ROUNDS = 5


class Verdict(StrEnum):
    TAKE_OVER = "take_over"
    CONTINUE = "continue"
    BUSY = "busy"
    DONE = "done"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str

    @property
    def may_claim(self) -> bool:
        return self.verdict in (Verdict.TAKE_OVER, Verdict.CONTINUE)


def judge_claim(
    run: JobRun, *, message_id: str | None, now: datetime, lease: timedelta
) -> Judgement:
    """May the message `message_id` claim the existing `run` at `now`?"""
    holder = f"{run.claimed_by or 'unknown'} (message {run.message_id})"
    if run.state in (RunState.SUCCEEDED, RunState.SKIPPED):
        return Judgement(Verdict.DONE, f"already {run.state} by {holder}")
    if message_id is not None and run.message_id == message_id:
        return Judgement(Verdict.CONTINUE, f"attempt {run.attempts + 1} of the same message")
    if run.state == RunState.DEAD:
        return Judgement(Verdict.DONE, f"dead-lettered by {holder}")
    if run.state in (RunState.FAILED, RunState.QUEUED):
        return Judgement(Verdict.TAKE_OVER, f"taken over from {run.state} claim of {holder}")
    held_for = now - run.updated_at
    if held_for > lease:
        return Judgement(
            Verdict.TAKE_OVER, f"lease expired: {holder} silent for {held_for} > {lease}"
        )
    return Judgement(Verdict.BUSY, f"running by {holder} for {held_for}")


@dataclass(frozen=True)
class ClaimRequest:
    job: str
    run_key: str
    scheduled_for: datetime | None
    message_id: str | None
    lease: timedelta


class ClaimStore:
    """Claims runs in short transactions of their own, committed before any work starts."""

    def __init__(self, *, engine: Engine, clock: Clock, claimed_by: str) -> None:
        self._engine = engine
        self._clock = clock
        self.claimed_by = claimed_by

    def claim(self, request: ClaimRequest, *, exists: bool = False) -> JobRun | None:
        """The claimed run, RUNNING and committed; None when another claim stands."""
        if not exists and (run := self._insert(request)) is not None:
            return run
        for _ in range(MAX_CLAIM_ROUNDS):
            current = self._read(request)
            if current is None:  # deleted since (retention): claim it afresh
                return self._insert(request)
            now = self._clock.now()
            judgement = judge_claim(
                current, message_id=request.message_id, now=now, lease=request.lease
            )
            if not judgement.may_claim:
                log.info("%s %s not claimed: %s", request.job, request.run_key, judgement.reason)
                return None
            # A transaction of its own: the compare-and-swap needs no fresh read, and SQLite
            # refuses a write from a transaction whose read snapshot another writer outdated.
            with LedgerUnit(self._engine) as uow:
                run = uow.job_runs.take_over(
                    run=current,
                    message_id=request.message_id,
                    claimed_by=self.claimed_by,
                    at=now,
                    reason=judgement.reason,
                )
                uow.commit()
            if run is not None:
                log.info("%s %s claimed: %s", request.job, request.run_key, judgement.reason)
                return run
        log.warning("%s %s: claim kept changing hands, giving up", request.job, request.run_key)
        return None

    def _read(self, request: ClaimRequest) -> JobRun | None:
        with LedgerUnit(self._engine) as uow:
            return uow.job_runs.get(job=request.job, run_key=request.run_key)

    def _insert(self, request: ClaimRequest) -> JobRun | None:
        try:
            with LedgerUnit(self._engine) as uow:
                run = uow.job_runs.claim_new(
                    job=request.job,
                    run_key=request.run_key,
                    message_id=request.message_id,
                    claimed_by=self.claimed_by,
                    scheduled_for=request.scheduled_for,
                    at=self._clock.now(),
                )
                uow.commit()
                return run
        except IntegrityError:
            return None  # (job, run_key) taken: the caller judges the existing claim

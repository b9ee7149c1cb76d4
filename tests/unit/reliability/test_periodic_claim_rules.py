"""Who may take over an existing claim: the rules `judge_claim` applies to a ledger row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineblocs_shared.models.jobs import JobRun, RunState
from lineblocs_shared.reliability.periodic.claims import Verdict, judge_claim

NOW = datetime(2026, 11, 23, 3, 20, tzinfo=UTC)
LEASE = timedelta(minutes=30)


def claim(state: RunState, *, message_id: str = "first", idle: timedelta = timedelta(0)) -> JobRun:
    return JobRun(
        job="j",
        run_key="2026-11-23T03:15Z",
        state=state,
        attempts=1,
        message_id=message_id,
        claimed_by="host-a:1",
        updated_at=NOW - idle,
    )


@pytest.mark.parametrize(
    ("state", "message_id", "idle", "verdict"),
    [
        (RunState.SUCCEEDED, "second", timedelta(0), Verdict.DONE),
        (RunState.SUCCEEDED, "first", timedelta(0), Verdict.DONE),  # never run twice
        (RunState.SKIPPED, "second", timedelta(0), Verdict.DONE),
        (RunState.DEAD, "second", timedelta(0), Verdict.DONE),
        (RunState.DEAD, "first", timedelta(0), Verdict.CONTINUE),  # a replay of the same message
        (RunState.FAILED, "first", timedelta(0), Verdict.CONTINUE),  # Dramatiq's retry
        (RunState.FAILED, "second", timedelta(0), Verdict.TAKE_OVER),
        (RunState.QUEUED, "second", timedelta(0), Verdict.TAKE_OVER),
        (RunState.RUNNING, "first", timedelta(0), Verdict.CONTINUE),  # redelivered after a kill
        (RunState.RUNNING, "second", timedelta(minutes=29), Verdict.BUSY),
        (RunState.RUNNING, "second", timedelta(minutes=31), Verdict.TAKE_OVER),  # lease expired
    ],
)
def test_claim_rules(state: RunState, message_id: str, idle: timedelta, verdict: Verdict) -> None:
    judgement = judge_claim(claim(state, idle=idle), message_id=message_id, now=NOW, lease=LEASE)
    assert judgement.verdict is verdict
    assert judgement.may_claim is (verdict in (Verdict.TAKE_OVER, Verdict.CONTINUE))


def test_a_manual_call_without_message_id_never_continues_a_claim() -> None:
    run = claim(RunState.RUNNING)
    run.message_id = None
    judgement = judge_claim(run, message_id=None, now=NOW, lease=LEASE)
    assert judgement.verdict is Verdict.BUSY


def test_the_reason_names_the_holder() -> None:
    judgement = judge_claim(
        claim(RunState.RUNNING, idle=timedelta(hours=1)), message_id="x", now=NOW, lease=LEASE
    )
    assert "lease expired" in judgement.reason
    assert "host-a:1" in judgement.reason

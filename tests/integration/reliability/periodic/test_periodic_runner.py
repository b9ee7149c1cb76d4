"""Once-per-period runs: claims, duplicates, catch-up, leases and retries, on MariaDB and SQLite.

The handler is a recorder: what it was called with is what a real job would have done.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from sqlalchemy import Engine

from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import RunState
from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError
from lineblocs_shared.reliability.periodic.claims import ClaimRequest, ClaimStore
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob, Trigger
from lineblocs_shared.reliability.periodic.runner import Outcome, Period, PeriodicRunner
from lineblocs_shared.reliability.periodic.ticks import period_key
from tests.integration.reliability.periodic.support import ledger, transitions

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
HOURLY_ALL = PeriodicJob(name="test.hourly_all", cron="0 * * * *", catch_up="all")
HOURLY_LATEST = PeriodicJob(name="test.hourly_latest", cron="0 * * * *", catch_up="latest")


def hour(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def tick(at: datetime, message_id: str) -> Trigger:
    """The message periodiq sends at `at`: scheduled_at is a pendulum string."""
    return Trigger(scheduled_at=str(pendulum.instance(at)), message_id=message_id)


@dataclass
class Recorder:
    """A handler that remembers each period it ran, and fails where told to."""

    delay_s: float = 0.0
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    calls: list[Period] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, period: Period) -> dict[str, object]:
        with self.lock:
            self.calls.append(period)
        time.sleep(self.delay_s)
        planned = self.failures.get(period.run_key)
        if planned:
            raise planned.pop(0)
        return {"period": period.run_key, "attempt": period.attempt}

    @property
    def keys(self) -> list[str]:
        return [call.run_key for call in self.calls]


def runner(engine: Engine, at: datetime, name: str = "scheduler-a:1") -> PeriodicRunner:
    return PeriodicRunner(engine=engine, clock=FixedClock(at), claimed_by=name)


def test_a_tick_runs_once_and_a_duplicate_message_does_nothing(ledger_engine: Engine) -> None:
    handler = Recorder()
    first = runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m1"))
    again = runner(ledger_engine, hour(0), "scheduler-b:2").run(
        HOURLY_LATEST, handler, trigger=tick(hour(0), "m2")
    )

    key = period_key(hour(0))
    assert [(o.run_key, o.outcome) for o in first] == [(key, Outcome.SUCCEEDED)]
    assert first[0].summary == {"period": key, "attempt": 1}
    assert [(o.run_key, o.outcome) for o in again] == [(key, Outcome.DUPLICATE)]
    assert handler.keys == [key]
    [row] = ledger(ledger_engine, HOURLY_LATEST.name)
    assert (row.run_key, row.state, row.attempts, row.message_id) == (key, "succeeded", 1, "m1")
    assert row.scheduled_for == hour(0)
    assert transitions(ledger_engine, HOURLY_LATEST.name, key) == [
        (None, "running"),
        ("running", "succeeded"),
    ]


def test_three_schedulers_sending_the_same_ticks_run_each_period_once(
    ledger_engine: Engine,
) -> None:
    """Three concurrent deliveries of each tick (three periodiq processes), real DB contention."""
    job = PeriodicJob(name="test.minutely", cron="* * * * *", catch_up="all")
    handler = Recorder(delay_s=0.05)
    ticks = [T0 + timedelta(minutes=m) for m in range(4)]
    outcomes: list[tuple[str, Outcome]] = []

    def scheduler_copy(n: int, at: datetime, start: threading.Barrier) -> None:
        worker = runner(ledger_engine, at + timedelta(seconds=1), f"scheduler-{n}:{n}")
        start.wait(timeout=10)
        for outcome in worker.run(job, handler, trigger=tick(at, f"{at:%H%M}-from-{n}")):
            outcomes.append((outcome.run_key, outcome.outcome))

    for at in ticks:
        start = threading.Barrier(3)
        threads = [threading.Thread(target=scheduler_copy, args=(n, at, start)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    keys = [period_key(at) for at in ticks]
    assert sorted(handler.keys) == keys  # each period ran exactly once
    assert Counter(outcomes) == Counter(
        [(key, Outcome.SUCCEEDED) for key in keys] + [(key, Outcome.DUPLICATE) for key in keys] * 2
    )
    rows = ledger(ledger_engine, job.name)
    assert [(r.run_key, r.state, r.attempts) for r in rows] == [(k, "succeeded", 1) for k in keys]


def test_three_copies_racing_for_a_failed_claim_take_it_over_once(ledger_engine: Engine) -> None:
    key = period_key(hour(0))
    handler = Recorder(delay_s=0.05, failures={key: [RuntimeError("first attempt failed")]})
    with pytest.raises(RuntimeError):
        runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))
    start = threading.Barrier(3)
    outcomes: list[Outcome] = []

    def late_copy(n: int) -> None:
        worker = runner(ledger_engine, hour(0) + timedelta(seconds=5), f"scheduler-{n}:{n}")
        start.wait(timeout=10)
        outcomes.extend(
            o.outcome
            for o in worker.run(HOURLY_LATEST, handler, trigger=tick(hour(0), f"copy-{n}"))
        )

    threads = [threading.Thread(target=late_copy, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.SUCCEEDED]
    assert handler.keys == [key, key]
    [row] = ledger(ledger_engine, HOURLY_LATEST.name)
    assert (row.state, row.attempts) == ("succeeded", 2)


def test_of_two_workers_that_read_the_same_failed_claim_only_one_takes_it(
    ledger_engine: Engine,
) -> None:
    """The race the threads above rarely hit: both read FAILED before either writes."""
    key = period_key(hour(0))
    handler = Recorder(failures={key: [RuntimeError("first attempt failed")]})
    with pytest.raises(RuntimeError):
        runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))
    # Both read the FAILED claim before either writes (one after the other: SQLite's
    # BEGIN IMMEDIATE would make two open transactions wait on each other).
    with LedgerUnit(ledger_engine) as first_read:
        seen_by_first = first_read.job_runs.get(job=HOURLY_LATEST.name, run_key=key)
    with LedgerUnit(ledger_engine) as second_read:
        seen_by_second = second_read.job_runs.get(job=HOURLY_LATEST.name, run_key=key)
    assert seen_by_first is not None
    assert seen_by_second is not None
    with LedgerUnit(ledger_engine) as first:
        won = first.job_runs.take_over(
            run=seen_by_first, message_id="a", claimed_by="a:1", at=hour(1), reason="test"
        )
        first.commit()
    with LedgerUnit(ledger_engine) as second:
        lost = second.job_runs.take_over(
            run=seen_by_second, message_id="b", claimed_by="b:2", at=hour(1), reason="test"
        )
        second.commit()

    assert won is not None
    assert won.attempts == 2
    assert lost is None
    [row] = ledger(ledger_engine, HOURLY_LATEST.name)
    assert (row.state, row.attempts, row.message_id) == ("running", 2, "a")


def test_catch_up_all_runs_every_missed_period_oldest_first(ledger_engine: Engine) -> None:
    handler = Recorder()
    runner(ledger_engine, hour(0)).run(HOURLY_ALL, handler, trigger=tick(hour(0), "m0"))
    # The scheduler was down for hours 1, 2 and 3; it is back for hour 4.
    outcomes = runner(ledger_engine, hour(4)).run(HOURLY_ALL, handler, trigger=tick(hour(4), "m4"))

    missed = [period_key(hour(n)) for n in (1, 2, 3)]
    assert [(o.run_key, o.outcome) for o in outcomes] == [
        (key, Outcome.SUCCEEDED) for key in [*missed, period_key(hour(4))]
    ]
    assert handler.keys == [period_key(hour(n)) for n in range(5)]
    assert [c.catching_up for c in handler.calls] == [False, True, True, True, False]
    assert [c.at for c in handler.calls] == [hour(n) for n in range(5)]  # each for its own tick
    rows = ledger(ledger_engine, HOURLY_ALL.name)
    assert [(r.run_key, r.state) for r in rows] == [
        (period_key(hour(n)), "succeeded") for n in range(5)
    ]
    assert transitions(ledger_engine, HOURLY_ALL.name, missed[0]) == [
        (None, "queued"),
        ("queued", "running"),
        ("running", "succeeded"),
    ]


def test_catch_up_latest_runs_only_the_newest_and_records_the_rest_skipped(
    ledger_engine: Engine,
) -> None:
    handler = Recorder()
    runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))
    outcomes = runner(ledger_engine, hour(4)).run(
        HOURLY_LATEST, handler, trigger=tick(hour(4), "m4")
    )
    late_copy = runner(ledger_engine, hour(4)).run(
        HOURLY_LATEST, handler, trigger=tick(hour(2), "late-m2")
    )

    assert [(o.run_key, o.outcome) for o in outcomes] == [(period_key(hour(4)), Outcome.SUCCEEDED)]
    assert [o.outcome for o in late_copy] == [Outcome.DUPLICATE]
    assert handler.keys == [period_key(hour(0)), period_key(hour(4))]
    rows = ledger(ledger_engine, HOURLY_LATEST.name)
    assert [(r.run_key, r.state, r.attempts) for r in rows] == [
        (period_key(hour(0)), "succeeded", 1),
        (period_key(hour(1)), "skipped", 0),
        (period_key(hour(2)), "skipped", 0),
        (period_key(hour(3)), "skipped", 0),
        (period_key(hour(4)), "succeeded", 1),
    ]


def test_a_job_never_claimed_before_starts_at_its_first_tick(ledger_engine: Engine) -> None:
    handler = Recorder()
    runner(ledger_engine, hour(0)).run(HOURLY_ALL, handler, trigger=Trigger(message_id="manual"))
    runner(ledger_engine, hour(9)).run(HOURLY_ALL, handler, trigger=tick(hour(9), "m9"))

    assert handler.keys == ["manual:manual", period_key(hour(9))]
    assert [r.run_key for r in ledger(ledger_engine, HOURLY_ALL.name)] == [
        period_key(hour(9)),
        "manual:manual",
    ]


def test_catch_up_after_a_long_outage_is_bounded(ledger_engine: Engine) -> None:
    job = PeriodicJob(name="test.bounded", cron="* * * * *", catch_up="all", max_missed=3)
    handler = Recorder()
    runner(ledger_engine, T0).run(job, handler, trigger=tick(T0, "m0"))
    back = T0 + timedelta(minutes=10)
    runner(ledger_engine, back).run(job, handler, trigger=tick(back, "m10"))

    expected = [T0 + timedelta(minutes=m) for m in (0, 7, 8, 9, 10)]
    assert handler.keys == [period_key(at) for at in expected]


def test_a_failed_catch_up_is_resumed_by_the_retry_of_the_same_message(
    ledger_engine: Engine,
) -> None:
    handler = Recorder(failures={period_key(hour(2)): [TransientError("db went away")]})
    runner(ledger_engine, hour(0)).run(HOURLY_ALL, handler, trigger=tick(hour(0), "m0"))
    with pytest.raises(TransientError):
        runner(ledger_engine, hour(4)).run(HOURLY_ALL, handler, trigger=tick(hour(4), "m4"))

    assert [(r.run_key, r.state) for r in ledger(ledger_engine, HOURLY_ALL.name)] == [
        (period_key(hour(0)), "succeeded"),
        (period_key(hour(1)), "succeeded"),
        (period_key(hour(2)), "failed"),
        (period_key(hour(3)), "queued"),
        (period_key(hour(4)), "failed"),
    ]

    retried = runner(ledger_engine, hour(4) + timedelta(seconds=30)).run(
        HOURLY_ALL, handler, trigger=tick(hour(4), "m4")
    )

    assert [o.run_key for o in retried] == [period_key(hour(n)) for n in (2, 3, 4)]
    assert handler.keys == [period_key(hour(n)) for n in (0, 1, 2, 2, 3, 4)]
    rows = ledger(ledger_engine, HOURLY_ALL.name)
    assert [(r.state, r.attempts) for r in rows] == [
        ("succeeded", 1),
        ("succeeded", 1),
        ("succeeded", 2),
        ("succeeded", 1),
        ("succeeded", 2),
    ]


@pytest.mark.parametrize(("job", "reran"), [(HOURLY_ALL, True), (HOURLY_LATEST, False)])
def test_a_period_whose_retry_never_came_is_rerun_only_by_catch_up_all(
    ledger_engine: Engine, job: PeriodicJob, reran: bool
) -> None:
    key1 = period_key(hour(1))
    handler = Recorder(failures={key1: [TransientError("smtp down")]})
    runner(ledger_engine, hour(0)).run(job, handler, trigger=tick(hour(0), "m0"))
    with pytest.raises(TransientError):
        runner(ledger_engine, hour(1)).run(job, handler, trigger=tick(hour(1), "m1"))
    # m1's retry is dropped (periodiq skips it as too old): the next tick comes.
    runner(ledger_engine, hour(2)).run(job, handler, trigger=tick(hour(2), "m2"))

    expected = [0, 1, 1, 2] if reran else [0, 1, 2]
    assert handler.keys == [period_key(hour(n)) for n in expected]
    states = [r.state for r in ledger(ledger_engine, job.name)]
    assert states == ["succeeded", "succeeded" if reran else "failed", "succeeded"]


def test_a_retry_continues_its_claim_and_a_duplicate_takes_over_a_failed_one(
    ledger_engine: Engine,
) -> None:
    key0, key1 = period_key(hour(0)), period_key(hour(1))
    handler = Recorder(failures={key0: [RuntimeError("boom")], key1: [RuntimeError("boom")]})
    first = runner(ledger_engine, hour(0))
    with pytest.raises(RuntimeError):
        first.run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))
    first.run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))  # Dramatiq's retry

    with pytest.raises(RuntimeError):
        first.run(HOURLY_LATEST, handler, trigger=tick(hour(1), "m1-a"))
    other = runner(ledger_engine, hour(1), "scheduler-b:2")
    taken = other.run(HOURLY_LATEST, handler, trigger=tick(hour(1), "m1-b"))
    late_retry = first.run(HOURLY_LATEST, handler, trigger=tick(hour(1), "m1-a"))

    assert [o.outcome for o in taken] == [Outcome.SUCCEEDED]
    assert [o.outcome for o in late_retry] == [Outcome.DUPLICATE]
    assert handler.keys == [key0, key0, key1, key1]
    rows = ledger(ledger_engine, HOURLY_LATEST.name)
    assert [(r.state, r.attempts, r.message_id) for r in rows] == [
        ("succeeded", 2, "m0"),
        ("succeeded", 2, "m1-b"),
    ]
    assert transitions(ledger_engine, HOURLY_LATEST.name, key0) == [
        (None, "running"),
        ("running", "failed"),
        ("failed", "running"),
        ("running", "succeeded"),
    ]
    with LedgerUnit(ledger_engine) as uow:
        run = uow.job_runs.get(job=HOURLY_LATEST.name, run_key=key1)
    assert run is not None
    assert run.claimed_by == "scheduler-b:2"
    assert run.last_error == "RuntimeError: boom"


def test_a_fatal_error_marks_the_run_dead_and_duplicates_leave_it(ledger_engine: Engine) -> None:
    key = period_key(hour(0))
    handler = Recorder(failures={key: [FatalError("card refused")]})
    with pytest.raises(FatalError):
        runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))
    duplicate = runner(ledger_engine, hour(0)).run(
        HOURLY_LATEST, handler, trigger=tick(hour(0), "m0-copy")
    )

    assert [o.outcome for o in duplicate] == [Outcome.DUPLICATE]
    assert handler.keys == [key]
    [row] = ledger(ledger_engine, HOURLY_LATEST.name)
    assert row.state == RunState.DEAD


def test_a_running_claim_is_taken_over_only_after_its_lease(ledger_engine: Engine) -> None:
    job = PeriodicJob(name="test.leased", cron="0 * * * *", lease=timedelta(minutes=30))
    key = period_key(hour(0))
    # A worker claims the period, then is killed (SIGKILL, OOM) before it records anything.
    killed = ClaimStore(engine=ledger_engine, clock=FixedClock(hour(0)), claimed_by="dead-host:7")
    request = ClaimRequest(job.name, key, hour(0), "m-killed", job.lease)
    assert killed.claim(request) is not None
    handler = Recorder()

    too_soon = runner(ledger_engine, hour(0) + timedelta(minutes=29), "live:2").run(
        job, handler, trigger=tick(hour(0), "m-copy")
    )
    later = runner(ledger_engine, hour(0) + timedelta(minutes=31), "live:2").run(
        job, handler, trigger=tick(hour(0), "m-copy")
    )

    assert [o.outcome for o in too_soon] == [Outcome.DUPLICATE]
    assert [o.outcome for o in later] == [Outcome.SUCCEEDED]
    assert handler.keys == [key]
    [row] = ledger(ledger_engine, job.name)
    assert (row.state, row.attempts, row.message_id) == ("succeeded", 2, "m-copy")
    with LedgerUnit(ledger_engine) as uow:
        run = uow.job_runs.get(job=job.name, run_key=key)
        assert run is not None
        assert run.id is not None
        takeover = uow.job_runs.events(run_id=run.id)[1]
    assert (takeover.from_state, takeover.to_state) == ("running", "running")
    assert "lease expired" in (takeover.detail or "")
    assert "dead-host:7" in (takeover.detail or "")


def test_manual_messages_run_once_each(ledger_engine: Engine) -> None:
    handler = Recorder()
    now = hour(5) + timedelta(minutes=7)
    manual = runner(ledger_engine, now)
    manual.run(HOURLY_ALL, handler, trigger=Trigger(message_id="x1"))
    manual.run(HOURLY_ALL, handler, trigger=Trigger(message_id="x2"))
    redelivered = manual.run(HOURLY_ALL, handler, trigger=Trigger(message_id="x2"))

    assert [o.outcome for o in redelivered] == [Outcome.DUPLICATE]
    assert handler.keys == ["manual:x1", "manual:x2"]
    assert [(c.tick, c.at) for c in handler.calls] == [(None, now), (None, now)]
    rows = ledger(ledger_engine, HOURLY_ALL.name)
    assert [(r.run_key, r.state, r.scheduled_for) for r in rows] == [
        ("manual:x1", "succeeded", None),
        ("manual:x2", "succeeded", None),
    ]


def test_a_dead_lettered_message_marks_its_unfinished_runs_dead(ledger_engine: Engine) -> None:
    handler = Recorder(failures={period_key(hour(0)): [RuntimeError("still failing")]})
    with pytest.raises(RuntimeError):
        runner(ledger_engine, hour(0)).run(HOURLY_LATEST, handler, trigger=tick(hour(0), "m0"))

    with LedgerUnit(ledger_engine) as uow:
        marked = uow.job_runs.mark_dead_for_message(message_id="m0", error="retries exhausted")
        uow.commit()

    assert marked == 1
    [row] = ledger(ledger_engine, HOURLY_LATEST.name)
    assert row.state == "dead"


def test_the_runner_needs_only_our_tables(empty_mysql_engine: Engine) -> None:
    """A worker's claims never depend on Lineblocs' schema being readable."""
    from lineblocs_shared.db import migrate

    migrate.upgrade(empty_mysql_engine)  # our lbj_* tables, no Lineblocs table at all
    handler = Recorder()

    outcomes = runner(empty_mysql_engine, hour(0)).run(
        HOURLY_ALL, handler, trigger=tick(hour(0), "m0")
    )

    assert [o.outcome for o in outcomes] == [Outcome.SUCCEEDED]
    assert [r.state for r in ledger(empty_mysql_engine, HOURLY_ALL.name)] == ["succeeded"]

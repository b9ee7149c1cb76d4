"""Periods from periodiq ticks: parsing `scheduled_at`, run keys, and the missed ticks of a gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from periodiq import cron

from lineblocs_shared.reliability.failures.taxonomy import FatalError
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob, Trigger
from lineblocs_shared.reliability.periodic.ticks import missed_ticks, parse_tick, period_key

DAILY = cron("15 3 * * *")
DAY0 = datetime(2026, 11, 19, 3, 15, tzinfo=UTC)


def test_a_periodiq_tick_in_any_zone_is_the_same_utc_minute() -> None:
    in_paris = pendulum.datetime(2026, 11, 23, 4, 15, 0, tz="Europe/Paris")  # what periodiq sends
    expected = datetime(2026, 11, 23, 3, 15, tzinfo=UTC)

    assert parse_tick(str(in_paris)) == expected
    assert parse_tick(str(pendulum.instance(expected))) == expected
    assert parse_tick("2026-11-23T03:15:00.7+00:00") == expected  # periodiq rounds, we truncate
    assert type(parse_tick(str(in_paris))) is datetime  # no pendulum subclass leaks into the DB


@pytest.mark.parametrize("bad", ["", "tomorrow", "P1D", "2026-13-40"])
def test_a_malformed_scheduled_at_is_fatal(bad: str) -> None:
    with pytest.raises(FatalError, match="scheduled_at"):
        parse_tick(bad)


def test_the_period_key_is_the_utc_minute() -> None:
    assert period_key(datetime(2026, 11, 23, 3, 15, tzinfo=UTC)) == "2026-11-23T03:15Z"
    paris = pendulum.datetime(2026, 11, 23, 4, 15, tz="Europe/Paris")
    assert period_key(paris) == "2026-11-23T03:15Z"


def test_missed_ticks_lie_strictly_between_the_last_claim_and_now() -> None:
    ticks = missed_ticks(DAILY, after=DAY0, before=DAY0 + timedelta(days=4), limit=1000)
    assert ticks == [DAY0 + timedelta(days=n) for n in (1, 2, 3)]


def test_no_tick_is_missed_between_consecutive_periods() -> None:
    assert missed_ticks(DAILY, after=DAY0, before=DAY0 + timedelta(days=1), limit=1000) == []


def test_a_long_gap_keeps_only_the_newest_ticks() -> None:
    minutely = cron("* * * * *")
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    ticks = missed_ticks(minutely, after=start, before=start + timedelta(hours=2), limit=5)
    assert ticks == [start + timedelta(minutes=m) for m in range(115, 120)]


def test_a_job_exposes_its_cron_spec_for_the_actor() -> None:
    job = PeriodicJob(name="maintenance.purge_logs", cron="15 3 * * *")
    assert job.spec == DAILY
    assert job.catch_up == "latest"


def test_a_message_without_scheduled_at_is_a_manual_trigger() -> None:
    import dramatiq

    manual = dramatiq.Message(
        queue_name="q", actor_name="a", args=(), kwargs={}, options={}, message_id="m-1"
    )
    tick = manual.copy(options={"scheduled_at": "2026-11-23T03:15:00+00:00"})

    assert Trigger.of(manual) == Trigger(scheduled_at=None, message_id="m-1")
    assert Trigger.of(tick).scheduled_at == "2026-11-23T03:15:00+00:00"
    assert Trigger.of(None) == Trigger()

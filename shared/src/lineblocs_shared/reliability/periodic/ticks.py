"""Cron ticks as periods: parse periodiq's `scheduled_at`, name a period, list missed ticks.

Our schedulers run with TZ=UTC, so a cron spec is read in UTC and a period is the UTC minute of
its tick. periodiq writes `scheduled_at` as a pendulum string in the scheduler's local zone; we
parse it as an aware instant, whatever that zone was, and convert it to UTC.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pendulum
from periodiq import CronSpec

from lineblocs_shared.reliability.failures.taxonomy import FatalError

# A safety net under `limit`: never walk more cron ticks than this looking for missed ones.
MAX_TICKS_WALKED = 1_000_000


def parse_tick(scheduled_at: str) -> datetime:
    """periodiq's `scheduled_at` as an aware UTC datetime, truncated to its minute."""
    try:
        parsed = pendulum.parse(scheduled_at)
    except (ValueError, TypeError) as exc:  # pendulum's ParserError is a ValueError
        raise FatalError(f"scheduled_at is not a date-time: {scheduled_at!r}") from exc
    if not isinstance(parsed, datetime):
        raise FatalError(f"scheduled_at is not a date-time: {scheduled_at!r}")
    return _plain_utc(parsed)


def period_key(tick: datetime) -> str:
    """The run key of the period starting at `tick`, e.g. `2026-11-23T03:15Z`."""
    return tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def missed_ticks(
    spec: CronSpec, *, after: datetime, before: datetime, limit: int
) -> list[datetime]:
    """The cron ticks strictly between `after` and `before`, oldest first, at most the newest
    `limit` of them (catch-up after a long outage is about recent periods, not all of history).
    """
    found: deque[datetime] = deque(maxlen=limit)
    cursor = pendulum.instance(after.astimezone(UTC))
    end = _plain_utc(before)
    for _ in range(MAX_TICKS_WALKED):
        cursor = spec.next_valid_date(cursor)
        tick = _plain_utc(cursor)
        if tick >= end:
            break
        found.append(tick)
    return list(found)


def _plain_utc(value: datetime) -> datetime:
    """A stdlib datetime (not pendulum's subclass) in UTC, seconds dropped."""
    instant = datetime.fromtimestamp(value.timestamp(), UTC)
    return instant.replace(second=0, microsecond=0)

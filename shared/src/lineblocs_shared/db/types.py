"""Column types that hide the Lineblocs schema's variants from the rest of the code.

- `Cents`: money is INT in fresh installs and DOUBLE(8,2) in databases created before
  2026-04-01. Python always sees an `int` of cents, rounded half up from a fractional value.
- `UTCDateTime`: TIMESTAMP/DATETIME columns hold UTC wall time. Python sees aware UTC datetimes;
  Laravel's zero timestamp '0000-00-00 00:00:00' reads as None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

ZERO_TIMESTAMP = "0000-00-00 00:00:00"


def round_half_up(value: Decimal | float | int | str) -> int:
    """Round to an integer the way billing rules say: half up (0.5 -> 1, -0.5 -> -1)."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Cents(TypeDecorator[int]):
    """Integer cents over an INT or DOUBLE(8,2) column."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"money must be integer cents, got {value!r}")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, int):
            return value
        return round_half_up(value)


def whole_seconds(moment: datetime) -> datetime:
    """`moment` without its fraction: MariaDB keeps whole seconds, and SQLite must agree."""
    return moment.replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are UTC by convention; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware-UTC datetime stored as naive UTC wall time (MySQL sessions run at +00:00)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {value!r}")
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            # pymysql hands back '0000-00-00 00:00:00' as text: Laravel's "never set".
            if value.startswith("0000-00-00"):
                return None
            value = datetime.fromisoformat(value)
        return as_utc(value)

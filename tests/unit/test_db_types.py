"""Column types and session modes that hide Lineblocs' schema variants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.dialects import mysql

from lineblocs_shared.db.engine import lineblocs_sql_mode
from lineblocs_shared.db.types import Cents, UTCDateTime, round_half_up

DIALECT = mysql.dialect()


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),  # half up, not banker's rounding
        (74.97, 75),
        (74.49, 74),
        (74.5, 75),
        (Decimal("1074.97"), 1075),
        ("24.99", 25),
        (-0.5, -1),  # a negative half rounds away from zero (Decimal ROUND_HALF_UP)
        (-74.49, -74),
        (0, 0),
    ],
)
def test_round_half_up(value: object, cents: int) -> None:
    assert round_half_up(value) == cents  # type: ignore[arg-type]


def test_cents_reads_double_columns_as_integer_cents() -> None:
    assert Cents().process_result_value(74.97, DIALECT) == 75
    assert Cents().process_result_value(Decimal("10.50"), DIALECT) == 11
    assert Cents().process_result_value(1200, DIALECT) == 1200
    assert Cents().process_result_value(None, DIALECT) is None


@pytest.mark.parametrize("bad", [12.5, True, "12", Decimal("1")])
def test_cents_refuses_to_write_anything_but_int(bad: object) -> None:
    with pytest.raises(TypeError, match="integer cents"):
        Cents().process_bind_param(bad, DIALECT)


def test_utc_datetime_writes_naive_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    written = UTCDateTime().process_bind_param(datetime(2026, 3, 1, 7, 0, tzinfo=eastern), DIALECT)
    assert written == datetime(2026, 3, 1, 12, 0)
    assert UTCDateTime().process_bind_param(datetime(2026, 3, 1, 12, 0), DIALECT) == written


def test_utc_datetime_reads_aware_utc_and_zero_dates_as_none() -> None:
    read = UTCDateTime().process_result_value(datetime(2026, 3, 1, 12, 0), DIALECT)
    assert read == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert UTCDateTime().process_result_value("0000-00-00 00:00:00", DIALECT) is None
    assert UTCDateTime().process_result_value("2026-03-01 12:00:00", DIALECT) == datetime(
        2026, 3, 1, 12, tzinfo=UTC
    )


def test_sql_mode_keeps_strictness_and_drops_zero_date_bans() -> None:
    mysql8 = (
        "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
        "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
    )
    mode = lineblocs_sql_mode(mysql8).split(",")
    assert "STRICT_TRANS_TABLES" in mode
    assert "ONLY_FULL_GROUP_BY" in mode
    assert "NO_ZERO_DATE" not in mode
    assert "NO_ZERO_IN_DATE" not in mode


def test_sql_mode_adds_strictness_to_a_lax_server() -> None:
    assert lineblocs_sql_mode("") == "STRICT_TRANS_TABLES"
    assert (
        lineblocs_sql_mode("NO_ENGINE_SUBSTITUTION") == "NO_ENGINE_SUBSTITUTION,STRICT_TRANS_TABLES"
    )

"""The SQL rounding helpers agree with `round_half_up` on MariaDB and SQLite, exactly."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy import Engine, Integer, Numeric, literal, select

from lineblocs_shared.db.rounding import div_half_up, whole_cents
from lineblocs_shared.db.types import round_half_up

pytestmark = pytest.mark.integration


def test_money_values_round_half_away_from_zero_like_the_cents_type(sql_engine: Engine) -> None:
    values = ["74.5", "74.49", "74.51", "0.5", "-0.5", "-0.49", "-2.5", "999999.99", "3", "-7"]
    rng = random.Random(7)
    values += [f"{rng.randrange(-(10**7), 10**7) / 100:.2f}" for _ in range(200)]
    exprs = [whole_cents(literal(Decimal(v), Numeric(10, 2))) for v in values]
    with sql_engine.connect() as conn:
        rows = conn.execute(select(*exprs)).one()
    assert list(rows) == [round_half_up(v) for v in values]


def test_integer_division_rounds_half_up_without_floating_point(sql_engine: Engine) -> None:
    rng = random.Random(11)
    pairs = [(1, 2), (3, 2), (5, 2), (-5, 2), (2999999, 3000000), (10**12 + 1, 2), (7, 7)]
    pairs += [(rng.randrange(-(10**9), 10**9), rng.randrange(1, 10**5)) for _ in range(200)]
    exprs = [div_half_up(literal(n, Integer), literal(d, Integer)) for n, d in pairs]
    with sql_engine.connect() as conn:
        rows = conn.execute(select(*exprs)).one()
    assert list(rows) == [round_half_up(Decimal(n) / Decimal(d)) for n, d in pairs]

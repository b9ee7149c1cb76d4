"""Integer arithmetic in SQL that rounds exactly like `round_half_up`, on MariaDB and SQLite.

Neither database's ROUND() will do: MySQL rounds a DOUBLE with the C library (half to even on
most systems) and SQLite's ROUND() works on floating point. SQLAlchemy's `//` renders
`FLOOR(a / b)` on MySQL, where `/` is a DECIMAL division rounded to 4 decimals
(`div_precision_increment`), so 2999999 // 3000000 would give 1. These two constructs compile to
exact integer operations instead: MySQL's `DIV` and FLOOR, SQLite's integer `/` and a CAST that
truncates (equal to FLOOR for the non-negative values it is applied to).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

MYSQL_DIALECTS = ("mysql", "mariadb")


class whole_cents(FunctionElement[int]):
    """A money value (INT, or DOUBLE(8,2) on older databases) rounded half away from zero to
    integer cents, as the `Cents` column type rounds it in Python: 74.5 → 75, -0.5 → -1."""

    type = Integer()
    name = "whole_cents"
    inherit_cache = True


class div_half_up(FunctionElement[int]):
    """`round(numerator / denominator)` half away from zero, for integer operands and a
    positive denominator: (2n + d) DIV 2d, mirrored for a negative numerator."""

    type = Integer()
    name = "div_half_up"
    inherit_cache = True


def _operands(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(whole_cents)
def _whole_cents_sqlite(element: whole_cents, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = _operands(element, compiler, **kw)
    return (
        f"(CASE WHEN {x} < 0 THEN -CAST(0.5 - ({x}) AS INTEGER)"
        f" ELSE CAST(({x}) + 0.5 AS INTEGER) END)"
    )


def _whole_cents_mysql(element: whole_cents, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = _operands(element, compiler, **kw)
    # 0.5 is an exact DECIMAL literal; a DOUBLE(8,2) value .49 stays below the next integer.
    return f"CAST(CASE WHEN {x} < 0 THEN -FLOOR(0.5 - ({x})) ELSE FLOOR(({x}) + 0.5) END AS SIGNED)"


@compiles(div_half_up)
def _div_half_up_sqlite(element: div_half_up, compiler: SQLCompiler, **kw: Any) -> str:
    n, d = (f"CAST({x} AS INTEGER)" for x in _operands(element, compiler, **kw))
    return (
        f"(CASE WHEN {n} < 0 THEN -((2 * -{n} + {d}) / (2 * {d}))"
        f" ELSE (2 * {n} + {d}) / (2 * {d}) END)"
    )


def _div_half_up_mysql(element: div_half_up, compiler: SQLCompiler, **kw: Any) -> str:
    n, d = (f"({x})" for x in _operands(element, compiler, **kw))
    return (
        f"(CASE WHEN {n} < 0 THEN -((2 * -{n} + {d}) DIV (2 * {d}))"
        f" ELSE (2 * {n} + {d}) DIV (2 * {d}) END)"
    )


for _dialect in MYSQL_DIALECTS:
    compiles(whole_cents, _dialect)(_whole_cents_mysql)
    compiles(div_half_up, _dialect)(_div_half_up_mysql)

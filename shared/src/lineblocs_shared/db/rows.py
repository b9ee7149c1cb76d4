"""Writing one model row with a Core statement instead of the ORM's unit of work.

On the billing hot path the ORM's flush cost more CPU than the statements themselves; these
statements are built once per table, their columns those of the parameters at execution.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Insert, Table, Update, bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


@cache
def insert_into(table: Table) -> Insert:
    """One INSERT statement per table: built once, it skips SQLAlchemy's coercion and cache key
    of every value."""
    return insert(table)


def insert_row(session: Session, row: object, table: Table) -> int:
    """INSERT a model instance with a Core statement; its new id."""
    result = session.execute(insert_into(table), insert_values(row, table))
    key = cast("CursorResult[Any]", result).inserted_primary_key
    assert key is not None  # a single-row INSERT has one
    return int(key[0])


def insert_values(row: object, table: Table) -> dict[str, Any]:
    """The columns of a model instance as the ORM would insert them: every column but the
    primary key, the model's defaults included, and a None left out only where the database has
    a default of its own."""
    values = {c.name: getattr(row, c.key) for c in table.columns if not c.primary_key}
    return {
        name: value
        for name, value in values.items()
        if value is not None or table.c[name].server_default is None
    }


def write_columns(session: Session, row: Any, **values: Any) -> None:
    """UPDATE `values` (columns) of one loaded row by its id, and set them on the instance
    without marking it dirty: nothing is flushed again at commit, and the instance stays what
    was written."""
    update_columns(session, row.__table__, row.id, **values)
    for name, value in values.items():
        set_committed_value(row, name, value)


def update_columns(
    executor: Session | Connection, table: Table, row_id: int, **values: Any
) -> None:
    """One UPDATE of `values` (columns) of the row `row_id` of `table`, without reading it."""
    executor.execute(_update_by_id(table), {**values, "row_id": row_id})


@cache
def _update_by_id(table: Table) -> Update:
    # The SET clause is the columns of the parameters given; `row_id` is not a column.
    return update(table).where(table.c.id == bindparam("row_id"))

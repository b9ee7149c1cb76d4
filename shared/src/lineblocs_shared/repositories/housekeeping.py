"""Deleting rows in bounded batches, so no DELETE holds a long lock or a long transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlmodel import Session


class RetentionRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def id_span(self, *, table: Table) -> tuple[int, int] | None:
        """(lowest id, highest id) of the table now, or None when it is empty."""
        low, high = self._session.execute(select(func.min(table.c.id), func.max(table.c.id))).one()
        return None if low is None else (int(low), int(high))

    def delete_window(
        self, *, table: Table, where: ColumnElement[bool], after_id: int, up_to_id: int
    ) -> int:
        """Delete the rows matching `where` whose id is in (after_id, up_to_id].

        A window of the primary key, not a count of rows: one statement, no id list, and it
        reads and locks that range only — whatever `where` tests, indexed or not (the site
        never indexed `debugger_logs.created_at`).
        """
        in_window = (table.c.id > after_id) & (table.c.id <= up_to_id)
        result = self._session.execute(delete(table).where(in_window, where))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def count(self, *, table: Table, where: ColumnElement[bool]) -> int:
        """How many rows a purge would delete (dry runs)."""
        stmt = select(func.count()).select_from(table).where(where)
        return int(self._session.execute(stmt).scalar_one())

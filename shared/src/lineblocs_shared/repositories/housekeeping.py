"""Retention of Lineblocs log tables: bounded batches, so no DELETE holds a long lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from lineblocs_shared.models.base import LineblocsTable


class RetentionRepository:
    def __init__(self, *, session: Session) -> None:
        self._session = session

    def delete_batch_older_than(
        self, *, model: type[LineblocsTable], cutoff: datetime, batch_size: int
    ) -> int:
        """Delete up to `batch_size` rows created before `cutoff`, oldest ids first.

        Selecting the ids first keeps the DELETE on the primary key (debugger_logs has no
        created_at index) and works the same on MariaDB and SQLite.
        """
        table = model.__table__  # type: ignore[attr-defined]
        ids = list(
            self._session.execute(
                select(table.c.id)
                .where(table.c.created_at < cutoff)
                .order_by(table.c.id)
                .limit(batch_size)
            ).scalars()
        )
        if not ids:
            return 0
        result = self._session.execute(delete(table).where(table.c.id.in_(ids)))
        return int(result.rowcount)  # type: ignore[attr-defined]

"""Purging a table in committed batches: a crash loses at most one batch's work, never holds
a long lock, and the next run goes on where this one stopped."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Engine, Table

from lineblocs_maintenance import metrics
from lineblocs_shared.db.uow import UnitOfWork

# Told of each batch deleted: (table name, rows). The CLI's progress bar listens here.
OnBatch = Callable[[str, int], None]


def purge_where(
    engine: Engine,
    table: Table,
    where: ColumnElement[bool],
    *,
    batch_size: int,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> int:
    """Delete every row of `table` matching `where`, one window of `batch_size` ids per
    transaction, lowest ids first; returns how many (would) go.

    The windows span the ids the table holds when the purge starts: rows written meanwhile
    are new, so past any cutoff. Windows of kept rows cost a short range read each, so no
    statement ever scans more than `batch_size` rows (docs/maintenance.md, the benchmark).
    """
    if dry_run:
        with UnitOfWork(engine) as uow:
            return uow.retention.count(table=table, where=where)
    with UnitOfWork(engine) as uow:
        span = uow.retention.id_span(table=table)
    if span is None:
        return 0
    low, high = span
    total = 0
    for after_id in range(low - 1, high, batch_size):
        with UnitOfWork(engine) as uow:
            up_to_id = min(after_id + batch_size, high)
            deleted = uow.retention.delete_window(
                table=table, where=where, after_id=after_id, up_to_id=up_to_id
            )
            uow.commit()
        if deleted:
            total += deleted
            metrics.count_purged(table.name, deleted)
            if on_batch is not None:
                on_batch(table.name, deleted)
    return total

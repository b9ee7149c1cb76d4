"""Lineblocs' log tables past their retention: `debugger_logs` and `error_user_trace`.

The Go job deleted every log (its cutoff came from the zero time) in one unbounded DELETE; the
site's own job keeps 7 days of both tables. We keep `log_retention_days` and delete in batches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Engine

from lineblocs_maintenance.batches import OnBatch, purge_where
from lineblocs_shared.models.logs import DebuggerLog, ErrorUserTrace

LOG_TABLES = (DebuggerLog.__table__, ErrorUserTrace.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PurgeResult:
    cutoff: str
    debugger_logs: int
    error_user_traces: int
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        """The run ledger's summary (JSON)."""
        return asdict(self)


def purge_logs_before(
    engine: Engine,
    *,
    cutoff: datetime,
    batch_size: int,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> PurgeResult:
    """Delete (or count) the log rows created before `cutoff`."""
    debugger, traces = (
        purge_where(
            engine,
            table,
            table.c.created_at < cutoff,
            batch_size=batch_size,
            dry_run=dry_run,
            on_batch=on_batch,
        )
        for table in LOG_TABLES
    )
    return PurgeResult(cutoff.isoformat(), debugger, traces, dry_run)

"""The maintenance service's Prometheus metrics: rows purged by table, users cleaned by outcome.
Created on first use in a worker process whose metrics are on (`enable_metrics`); elsewhere —
demo, CLI, tests — recording is a no-op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineblocs_shared.reliability.observability.lazy import LazyMetrics

if TYPE_CHECKING:
    from prometheus_client import Counter


@dataclass(frozen=True)
class _MaintenanceMetrics:
    purged: Counter
    users: Counter


def _create() -> _MaintenanceMetrics:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()  # in multiprocess mode the exposition reads the files
    return _MaintenanceMetrics(
        purged=Counter(
            "lbj_maintenance_rows_purged",
            "Rows deleted by the retention jobs, by table.",
            ["table"],
            registry=registry,
        ),
        users=Counter(
            "lbj_maintenance_users_cleaned",
            "Users who never set a password, by outcome (deleted, kept).",
            ["outcome"],
            registry=registry,
        ),
    )


_METRICS = LazyMetrics(_create)


def count_purged(table: str, rows: int) -> None:
    if (m := _METRICS.get()) is not None:
        m.purged.labels(table=table).inc(rows)


def count_users(outcome: str, users: int = 1) -> None:
    if (m := _METRICS.get()) is not None and users:
        m.users.labels(outcome=outcome).inc(users)

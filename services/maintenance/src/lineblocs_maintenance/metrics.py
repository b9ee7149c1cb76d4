"""The maintenance service's Prometheus metrics: rows purged by table, users cleaned by outcome,
recordings relocated and failed, bytes moved. Created on first use in a worker process whose
metrics are on (`enable_metrics`); elsewhere — demo, CLI, tests — recording is a no-op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineblocs_shared.reliability.observability.lazy import LazyMetrics

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class _MaintenanceMetrics:
    purged: Counter
    users: Counter
    relocated: Counter
    relocation_failed: Counter
    bytes_moved: Counter


def _counter(name: str, text: str, labels: list[str], registry: CollectorRegistry) -> Counter:
    from prometheus_client import Counter

    return Counter(name, text, labels, registry=registry)


def _create() -> _MaintenanceMetrics:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()  # in multiprocess mode the exposition reads the files
    return _MaintenanceMetrics(
        purged=_counter(
            "lbj_maintenance_rows_purged",
            "Rows deleted by the retention jobs, by table.",
            ["table"],
            registry,
        ),
        users=_counter(
            "lbj_maintenance_users_cleaned",
            "Users who never set a password, by outcome (deleted, kept).",
            ["outcome"],
            registry,
        ),
        relocated=_counter(
            "lbj_recordings_relocated",
            "Recordings whose object storage copy is recorded and media server copy deleted "
            "(outcome: relocated, or cleaned when only the delete was left).",
            ["outcome"],
            registry,
        ),
        relocation_failed=_counter(
            "lbj_recordings_relocation_failed",
            "Recordings given up on, by state (missing on the media server, failed).",
            ["state"],
            registry,
        ),
        bytes_moved=_counter(
            "lbj_recording_bytes_moved",
            "Bytes of recordings uploaded to object storage.",
            [],
            registry,
        ),
    )


_METRICS = LazyMetrics(_create)


def count_purged(table: str, rows: int) -> None:
    if (m := _METRICS.get()) is not None:
        m.purged.labels(table=table).inc(rows)


def count_users(outcome: str, users: int = 1) -> None:
    if (m := _METRICS.get()) is not None and users:
        m.users.labels(outcome=outcome).inc(users)


def count_relocated(outcome: str) -> None:
    if (m := _METRICS.get()) is not None:
        m.relocated.labels(outcome=outcome).inc()


def count_failed(state: str) -> None:
    if (m := _METRICS.get()) is not None:
        m.relocation_failed.labels(state=state).inc()


def count_bytes(size: int) -> None:
    if (m := _METRICS.get()) is not None:
        m.bytes_moved.inc(size)

"""The maintenance service's Prometheus metrics: recordings relocated and failed, bytes moved.
Created on first use in a worker process whose metrics are on (`enable_metrics`); elsewhere —
demo, CLI, tests — recording is a no-op."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineblocs_shared.reliability.observability.metrics import metrics_enabled

if TYPE_CHECKING:
    from prometheus_client import Counter


@dataclass(frozen=True)
class _RelocationMetrics:
    relocated: Counter
    failed: Counter
    bytes_moved: Counter


_metrics: _RelocationMetrics | None = None
_lock = threading.Lock()


def _get() -> _RelocationMetrics | None:
    global _metrics
    if _metrics is None and metrics_enabled():
        with _lock:
            if _metrics is None:
                _metrics = _create()
    return _metrics


def _create() -> _RelocationMetrics:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()  # in multiprocess mode the exposition reads the files
    return _RelocationMetrics(
        relocated=Counter(
            "lbj_recordings_relocated",
            "Recordings whose object storage copy is recorded and media server copy deleted "
            "(outcome: relocated, or cleaned when only the delete was left).",
            ["outcome"],
            registry=registry,
        ),
        failed=Counter(
            "lbj_recordings_relocation_failed",
            "Recordings given up on, by state (missing on the media server, failed).",
            ["state"],
            registry=registry,
        ),
        bytes_moved=Counter(
            "lbj_recording_bytes_moved",
            "Bytes of recordings uploaded to object storage.",
            registry=registry,
        ),
    )


def count_relocated(outcome: str) -> None:
    if (m := _get()) is not None:
        m.relocated.labels(outcome=outcome).inc()


def count_failed(state: str) -> None:
    if (m := _get()) is not None:
        m.failed.labels(state=state).inc()


def count_bytes(size: int) -> None:
    if (m := _get()) is not None:
        m.bytes_moved.inc(size)

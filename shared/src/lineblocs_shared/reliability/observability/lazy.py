"""A service's own Prometheus metrics, created on first use in a process whose metrics are on
(`enable_metrics`, a worker); elsewhere — demo, CLI, tests — `get()` is None and recording is a
no-op. Created once per process, whichever thread records first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from lineblocs_shared.reliability.observability.metrics import metrics_enabled

M = TypeVar("M")


class LazyMetrics(Generic[M]):
    def __init__(self, create: Callable[[], M]) -> None:
        self._create = create
        self._metrics: M | None = None
        self._lock = threading.Lock()

    def get(self) -> M | None:
        if self._metrics is None and metrics_enabled():
            with self._lock:
                if self._metrics is None:
                    self._metrics = self._create()
        return self._metrics

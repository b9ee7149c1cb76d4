"""Prometheus metrics: Dramatiq's own plus ours, exposed together by the worker container.

Dramatiq's workers write metrics to files in a shared directory (prometheus_client's
multiprocess mode); one exposition server, forked by the dramatiq master, reads them all.
Our metrics live in the same directory. They exist only in a booted dramatiq worker process
(or after `enable_metrics`): elsewhere — demo, CLI, tests, scheduler — recording is a no-op.

prometheus_client is imported lazily on purpose: it picks its value storage (memory or files)
once, when first imported, from PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.middleware.prometheus import DB_PATH, Prometheus

from lineblocs_shared.reliability.observability.message_tally import Flusher, MessageTally, Sinks
from lineblocs_shared.settings import Settings, load_settings

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
RUN_DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class _Metrics:
    dead_letters: Counter
    outbox_backlog: Gauge
    periodic_lag: Gauge
    run_duration: Histogram


_metrics: _Metrics | None = None
_enable_lock = threading.Lock()


def _store_metrics_in(directory: Path) -> None:
    """Make every metric created from now on in this process write its values to `directory`."""
    os.environ[MULTIPROC_ENV] = str(directory)
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        # Something imported prometheus_client before the variable was set: metrics would stay
        # in this process's memory, invisible to the exposition server.
        logger.warning("prometheus_client was imported early; switching to multiprocess mode")
        values.ValueClass = values.MultiProcessValue()


def enable_metrics(directory: Path) -> None:
    """Create our metrics in this process, stored under `directory` for the exposition."""
    global _metrics
    with _enable_lock:
        if _metrics is not None:
            return
        _store_metrics_in(directory)
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        # Not the global registry: in multiprocess mode the exposition reads the files.
        registry = CollectorRegistry()
        _metrics = _Metrics(
            dead_letters=Counter(
                "lbj_dead_letters",
                "Messages dead-lettered, by actor, queue and reason.",
                ["actor", "queue", "reason"],
                registry=registry,
            ),
            outbox_backlog=Gauge(
                "lbj_outbox_backlog",
                "Outbox messages committed but not yet published.",
                registry=registry,
                multiprocess_mode="mostrecent",
            ),
            periodic_lag=Gauge(
                "lbj_periodic_lag_seconds",
                "How late a periodic job's run started after its scheduled time.",
                ["job"],
                registry=registry,
                multiprocess_mode="mostrecent",
            ),
            run_duration=Histogram(
                "lbj_run_duration_seconds",
                "Duration of ledger runs, by job and final state.",
                ["job", "state"],
                buckets=RUN_DURATION_BUCKETS,
                registry=registry,
            ),
        )


def metrics_enabled() -> bool:
    """Whether this process records metrics (a booted worker, or after `enable_metrics`)."""
    return _metrics is not None


def disable_metrics() -> None:
    """Forget our metrics in this process: recording becomes a no-op again."""
    global _metrics
    _metrics = None


def record_dead_letter(actor: str, queue: str, reason: str) -> None:
    if _metrics is not None:
        _metrics.dead_letters.labels(actor=actor, queue=queue, reason=reason).inc()


def set_outbox_backlog(count: int) -> None:
    if _metrics is not None:
        _metrics.outbox_backlog.set(count)


def set_periodic_lag(job: str, seconds: float) -> None:
    if _metrics is not None:
        _metrics.periodic_lag.labels(job=job).set(seconds)


def observe_run_duration(job: str, state: str, seconds: float) -> None:
    if _metrics is not None:
        _metrics.run_duration.labels(job=job, state=state).observe(seconds)


def exposition(directory: Path) -> tuple[bytes, str]:
    """The text exposition of every process's metrics under `directory`, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ExpositionHandler(BaseHTTPRequestHandler):
    directory = Path(DB_PATH)

    def do_GET(self) -> None:
        body, content_type = exposition(self.directory)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


def serve_metrics() -> int:
    """Fork of the dramatiq master (see `PrometheusMetrics.forks`): serves METRICS_PORT."""
    port = load_settings().metrics_port
    try:
        server = HTTPServer(("0.0.0.0", port), _ExpositionHandler)  # noqa: S104
    except OSError as exc:
        # Workers keep working without an exposition: one clear line, no traceback.
        logger.error("metrics exposition not started on port %d: %s", port, exc)
        return 1
    server.serve_forever()
    return 0


class PrometheusMetrics(Prometheus):
    """Dramatiq's Prometheus middleware with our metrics, our exposition port, and its per-message
    metrics counted in memory and flushed once a second (`message_tally`).

    Inert until a dramatiq worker process boots: the demo's and the tests' in-process workers,
    the scheduler and CLI publishers never emit `process_boot`, and Dramatiq's own hooks would
    fail on metrics that were never created.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._port = settings.metrics_port
        self._booted = False
        self._tally: MessageTally | None = None
        self._flusher: Flusher | None = None
        self._started: dict[str, float] = {}

    @property
    def forks(self) -> list[Any]:
        return [serve_metrics] if self._port else []

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        _store_metrics_in(Path(DB_PATH))
        super().after_process_boot(broker)
        enable_metrics(Path(DB_PATH))
        tally = self._tally = MessageTally(tuple(self.message_durations._upper_bounds))
        sinks = Sinks(
            total=self.total_messages,
            errored=self.total_errored_messages,
            in_progress=self.inprogress_messages,
            durations=self.message_durations,
        )
        self._flusher = Flusher(lambda: tally.flush(sinks))
        self._flusher.start()
        self._booted = True

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self._flusher is not None:
            self._flusher.stop()  # what was counted last reaches the files before they close
        if self._booted:
            super().after_worker_shutdown(broker, worker)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._booted:
            super().after_nack(broker, message)

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        if self._booted:
            super().after_enqueue(broker, message, delay)

    def before_delay_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._booted:
            super().before_delay_message(broker, message)

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._tally is None:
            return
        labels = (message.queue_name, message.actor_name)
        if message.message_id in self.delayed_messages:  # rare: a delayed message now due
            self.delayed_messages.discard(message.message_id)
            self.inprogress_delayed_messages.labels(*labels).dec()
        self._started[message.message_id] = time.monotonic()
        self._tally.started(labels)

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        if self._tally is None:
            return
        started = self._started.pop(message.message_id, None)
        elapsed_ms = 0.0 if started is None else (time.monotonic() - started) * 1000
        labels = (message.queue_name, message.actor_name)
        self._tally.finished(labels, duration_ms=elapsed_ms, errored=exception is not None)

    after_skip_message = after_process_message

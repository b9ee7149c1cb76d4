"""Our metrics reach the same multiprocess exposition as Dramatiq's, and are inert elsewhere."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.observability import metrics
from lineblocs_shared.reliability.observability.message_tally import MessageTally, Sinks
from lineblocs_shared.reliability.observability.metrics import PrometheusMetrics, exposition
from lineblocs_shared.settings import load_settings

BOUNDS = (5.0, 10.0, 100.0, 250.0, 1000.0, 900000.0, float("inf"))

# A worker process's life, reduced to what matters: metrics enabled in a directory, recorded.
RECORDING_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lineblocs_shared.reliability.observability import metrics

    metrics.enable_metrics(Path(sys.argv[1]))
    metrics.record_dead_letter("charge_invoice", "billing", "fatal")
    metrics.set_outbox_backlog(12)
    metrics.set_periodic_lag("purge_logs", 4.5)
    metrics.observe_run_duration("purge_logs", "succeeded", 0.3)
    """
)


def record_in_a_process(directory: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("prometheus_multiproc")}
    subprocess.run(
        [sys.executable, "-c", RECORDING_PROCESS, str(directory)], env=env, check=True, timeout=60
    )


def test_exposition_shows_our_metrics_summed_over_worker_processes(tmp_path: Path) -> None:
    record_in_a_process(tmp_path)
    once = exposition(tmp_path)[0].decode()
    record_in_a_process(tmp_path)
    text, content_type = exposition(tmp_path)
    twice = text.decode()

    dead_letter = 'lbj_dead_letters_total{actor="charge_invoice",queue="billing",reason="fatal"}'
    assert f"{dead_letter} 1.0" in once.splitlines()
    assert f"{dead_letter} 2.0" in twice.splitlines()
    assert "lbj_outbox_backlog 12.0" in twice.splitlines()
    assert 'lbj_periodic_lag_seconds{job="purge_logs"} 4.5' in twice.splitlines()
    assert 'lbj_run_duration_seconds_count{job="purge_logs",state="succeeded"} 2.0' in twice
    assert 'lbj_run_duration_seconds_bucket{job="purge_logs",le="0.5",state="succeeded"} 2.0' in (
        twice
    )
    assert content_type.startswith("text/plain")


def test_recording_without_metrics_is_a_no_op() -> None:
    assert metrics._metrics is None  # nothing in the test process enabled them
    environment = dict(os.environ)
    metrics.record_dead_letter("charge_invoice", "billing", "fatal")
    metrics.set_outbox_backlog(3)
    metrics.set_periodic_lag("purge_logs", 1.0)
    metrics.observe_run_duration("purge_logs", "failed", 2.0)

    assert dict(os.environ) == environment


def test_the_middleware_is_inert_in_in_process_workers(caplog: pytest.LogCaptureFixture) -> None:
    # The demo and the tests run actors on a StubBroker: no process_boot, so no metrics; Dramatiq's
    # own Prometheus middleware would log a CRITICAL traceback for every message there.
    broker = StubBroker(middleware=[PrometheusMetrics(load_settings())])
    done: list[int] = []

    @dramatiq.actor(broker=broker, queue_name="maintenance", actor_name="tick")
    def tick(n: int) -> None:
        done.append(n)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    start_worker(worker)
    try:
        tick.send(1)
        tick.send_with_options(args=(2,), delay=1)
        broker.join("maintenance")
        worker.join()
    finally:
        worker.stop()

    assert sorted(done) == [1, 2]
    assert metrics._metrics is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_exposition_server_runs_only_when_a_port_is_set() -> None:
    assert PrometheusMetrics(load_settings(metrics_port=9191)).forks == [metrics.serve_metrics]
    assert PrometheusMetrics(load_settings(metrics_port=0)).forks == []


def test_the_tally_writes_what_dramatiq_writes_message_by_message() -> None:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    def sinks(registry: CollectorRegistry) -> Sinks:
        labels = ["queue_name", "actor_name"]
        return Sinks(
            total=Counter("messages_total", "", labels, registry=registry),
            errored=Counter("message_errors_total", "", labels, registry=registry),
            in_progress=Gauge("messages_inprogress", "", labels, registry=registry),
            durations=Histogram("duration_ms", "", labels, buckets=BOUNDS, registry=registry),
        )

    durations = [0, 4.9, 5, 5.1, 99, 100, 250, 7_500, 899_999, 10**7]
    reference_registry, tallied_registry = CollectorRegistry(), CollectorRegistry()
    reference, tallied = sinks(reference_registry), sinks(tallied_registry)
    tally = MessageTally(BOUNDS)
    for index, duration in enumerate(durations):  # Dramatiq's way, and ours
        labels = ("billing", "bill_subscription" if index % 2 else "sweep_dunning")
        reference.durations.labels(*labels).observe(duration)
        reference.total.labels(*labels).inc()
        if index % 3 == 0:
            reference.errored.labels(*labels).inc()
        tally.started(labels)
        tally.finished(labels, duration_ms=duration, errored=index % 3 == 0)
    tally.started(("billing", "bill_subscription"))  # still running at the flush
    reference.in_progress.labels("billing", "bill_subscription").inc()
    tally.flush(tallied)
    tally.flush(tallied)  # a flush with nothing new adds nothing

    def samples(registry: CollectorRegistry) -> set[tuple[str, tuple[Any, ...], float]]:
        return {
            (s.name, tuple(sorted(s.labels.items())), s.value)
            for metric in registry.collect()
            for s in metric.samples
            if not s.name.endswith("_created")
        }

    assert samples(tallied_registry) == samples(reference_registry)

"""The notifications service's Prometheus metrics: mails by kind and outcome, provider latency,
and each provider's circuit state. Created on first use in a worker process whose metrics are on
(`enable_metrics`); elsewhere — demo, CLI, tests — recording is a no-op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineblocs_shared.reliability.observability.lazy import LazyMetrics

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

SEND_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)
CIRCUIT_STATES = {"closed": 0, "half-open": 1, "open": 2}


@dataclass(frozen=True)
class _MailMetrics:
    mails: Counter
    send_seconds: Histogram
    circuit: Gauge


def _create() -> _MailMetrics:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    registry = CollectorRegistry()  # in multiprocess mode the exposition reads the files
    return _MailMetrics(
        mails=Counter(
            "lbj_notifications",
            "Mails settled, by kind and outcome (sent, suppressed, skipped, failed).",
            ["kind", "outcome"],
            registry=registry,
        ),
        send_seconds=Histogram(
            "lbj_mail_send_seconds",
            "Time a provider took to take (or refuse) one mail.",
            ["provider", "result"],
            buckets=SEND_BUCKETS,
            registry=registry,
        ),
        circuit=Gauge(
            "lbj_mail_circuit_state",
            "A mail provider's circuit breaker in this process: 0 closed, 1 half-open, 2 open.",
            ["provider"],
            registry=registry,
            multiprocess_mode="max",
        ),
    )


_METRICS = LazyMetrics(_create)


def count_mail(kind: str, outcome: str) -> None:
    if (m := _METRICS.get()) is not None:
        m.mails.labels(kind=kind, outcome=outcome).inc()


def observe_send(provider: str, result: str, seconds: float) -> None:
    if (m := _METRICS.get()) is not None:
        m.send_seconds.labels(provider=provider, result=result).observe(seconds)


def set_circuit_state(provider: str, state: str) -> None:
    if (m := _METRICS.get()) is not None:
        m.circuit.labels(provider=provider).set(CIRCUIT_STATES.get(state, 0))

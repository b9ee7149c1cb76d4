"""Billing end to end: bills per second, 10,000 subscriptions, 2 worker processes, worker RSS.

`uv run python -m benchmarks --only billing_throughput`: for each fake-gateway latency (0 and
50 ms a call), a throw-away MariaDB database with 10,000 due subscriptions (a card each) and a
throw-away RabbitMQ vhost; two `lineblocs-jobs worker billing --processes 1` processes
(PAYMENT_GATEWAY_OVERRIDE=fake), started and ready before the clock starts. The clock runs from
the distribution (`distribute()` with the BulkPublisher, as the hourly actor) to the last period
`paid` in `lbj_billing_periods`: invoice written, charged (create + confirm), payment recorded,
receipt in the outbox. The resident memory (VmRSS from /proc) of every worker process is
sampled throughout. Goals: ≥ 200 bills/s at 0 ms; ≤ 150 MiB per worker process.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from benchmarks.billing_support import DuePeriod, bench_vhost, seed_billable
from benchmarks.invoice_preview import bench_database
from benchmarks.support import (
    SERVERS,
    print_table,
    sample_rss,
    servers_cpu,
    verdict,
    worker_env,
    workers_cpu,
)
from lineblocs_billing.distribution.distributor import Distributor, distribute
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.settings import load_settings
from tests.support.worker_supervisor import WorkerSupervisor, worker_argv

SUBSCRIPTIONS = 10_000
LATENCIES_MS = (0, 50)
WORKERS = 2
THREADS = 8
GOAL_PER_S = 200
GOAL_RSS_MIB = 150
TIMEOUT_S = 900.0
POLL_S = 0.25


@dataclass
class Result:
    latency_ms: int
    bills: int
    distribute_s: float = 0.0
    total_s: float = 0.0
    steady_per_s: float = 0.0  # between 10 % and 90 % paid
    worker_cpu_s: float = 0.0  # CPU time of the worker processes while measured
    # CPU time of the local servers while measured (None: not on this machine)
    server_cpu_s: dict[str, float | None] = field(default_factory=dict)
    peak_rss_kib: dict[str, int] = field(default_factory=dict)  # "worker-1 master" -> KiB
    check: str = ""

    @property
    def per_s(self) -> float:
        return self.bills / self.total_s

    @property
    def cpu_ms_per_bill(self) -> float:
        return self.worker_cpu_s / self.bills * 1000

    def server_ms_per_bill(self, server: str) -> str:
        seconds = self.server_cpu_s.get(server)
        return "—" if seconds is None else f"{seconds / self.bills * 1000:.1f} ms"

    def worker_peak_mib(self) -> float:
        """The largest worker process (the dramatiq master forks it and only supervises)."""
        return max(v for k, v in self.peak_rss_kib.items() if k.endswith("worker")) / 1024


def run(
    amqp_url: str,
    mysql_url: str,
    *,
    subscriptions: int = SUBSCRIPTIONS,
    latencies_ms: tuple[int, ...] = LATENCIES_MS,
    threads: int = THREADS,
) -> bool:
    results = [
        _run_one(amqp_url, mysql_url, latency, subscriptions=subscriptions, threads=threads)
        for latency in latencies_ms
    ]
    _print(results, threads=threads)
    at_zero = [r for r in results if r.latency_ms == 0]
    fast = all(r.per_s >= GOAL_PER_S for r in at_zero)
    small = all(r.worker_peak_mib() <= GOAL_RSS_MIB for r in results)
    correct = all(r.check == "ok" for r in results)
    print_table(
        "goals",
        ["goal", "verdict"],
        [
            (f"≥ {GOAL_PER_S} bills/s end to end, gateway at 0 ms", verdict(fast)),
            (f"≤ {GOAL_RSS_MIB} MiB RSS per worker process", verdict(small)),
            ("every subscription invoiced and paid once, no dead letter", verdict(correct)),
        ],
    )
    return fast and small and correct


def _run_one(
    amqp_url: str, mysql_url: str, latency_ms: int, *, subscriptions: int, threads: int
) -> Result:
    result = Result(latency_ms=latency_ms, bills=subscriptions)
    with (
        bench_database(mysql_url) as engine,
        bench_vhost(amqp_url) as vhost_url,
        tempfile.TemporaryDirectory(prefix="lbj-bench-") as logs,
    ):
        seed_billable(engine, subscriptions, period=DuePeriod.ended_yesterday(), cards=True)
        database_url = engine.url.render_as_string(False)
        workers = WorkerSupervisor(log_dir=Path(logs))
        env = worker_env(
            database_url,
            vhost_url,
            threads,
            PAYMENT_GATEWAY_OVERRIDE="fake",
            FAKE_GATEWAY_LATENCY_MS=str(latency_ms),
        )
        for n in range(1, WORKERS + 1):
            workers.add(f"worker-{n}", worker_argv("billing", threads=threads), env)
        workers.start()
        try:
            for name in workers.names:
                workers.wait_ready(name, timeout_s=60)
            settings = load_settings(queue_url=vhost_url, database_url=database_url)
            distributor = Distributor(
                engine=engine, clock=SystemClock(), publisher=BulkPublisher.from_settings(settings)
            )
            _measure(engine, distributor, workers, result)
        finally:
            workers.stop()
        result.check = _check(engine, subscriptions)
    return result


def _measure(
    engine: Engine, distributor: Distributor, workers: WorkerSupervisor, result: Result
) -> None:
    cpu_before = workers_cpu(workers)
    servers_before = servers_cpu()
    started = time.monotonic()
    report = distribute(distributor)
    result.distribute_s = time.monotonic() - started
    if report.failed or report.enqueued != result.bills:
        raise RuntimeError(f"distribution incomplete: {report.line()}")
    marks: dict[float, float] = {}  # fraction paid -> seconds since the start
    while (paid := _paid(engine)) < result.bills:
        sample_rss(workers, result.peak_rss_kib)
        for fraction in (0.1, 0.9):
            if paid >= fraction * result.bills:
                marks.setdefault(fraction, time.monotonic() - started)
        if time.monotonic() - started > TIMEOUT_S:
            raise RuntimeError(f"{paid} of {result.bills} paid after {TIMEOUT_S}s")
        time.sleep(POLL_S)
    result.total_s = time.monotonic() - started
    result.worker_cpu_s = workers_cpu(workers) - cpu_before
    result.server_cpu_s = {
        name: None if before is None or after is None else after - before
        for (name, before), after in zip(
            servers_before.items(), servers_cpu().values(), strict=True
        )
    }
    sample_rss(workers, result.peak_rss_kib)
    steady = marks.get(0.9, result.total_s) - marks.get(0.1, 0.0)
    result.steady_per_s = 0.8 * result.bills / steady if steady > 0 else 0.0


def _paid(engine: Engine) -> int:
    with engine.connect() as conn:
        sql = "SELECT COUNT(*) FROM lbj_billing_periods WHERE state = 'paid'"
        return int(conn.execute(text(sql)).scalar_one())


def _check(engine: Engine, subscriptions: int) -> str:
    """'ok' when every subscription has one paid invoice and one succeeded attempt."""
    queries = {
        "invoices": "SELECT COUNT(DISTINCT deduplication_key) FROM users_invoices"
        " WHERE status = 'PAID'",
        "invoice rows": "SELECT COUNT(*) FROM users_invoices",
        "succeeded attempts": "SELECT COUNT(*) FROM lbj_payment_attempts WHERE state = 'succeeded'",
        "dead letters": "SELECT COUNT(*) FROM lbj_dead_letters",
    }
    with engine.connect() as conn:
        counts = {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in queries.items()}
    expected = dict.fromkeys(queries, subscriptions) | {"dead letters": 0}
    return "ok" if counts == expected else f"unexpected counts: {counts}"


def _print(results: list[Result], *, threads: int) -> None:
    rows = [
        (
            f"{r.latency_ms} ms",
            f"{r.bills:,}",
            f"{r.distribute_s:.1f}s",
            f"{r.total_s:.1f}s",
            f"{r.per_s:,.0f}",
            f"{r.steady_per_s:,.0f}",
            f"{r.cpu_ms_per_bill:.1f} ms",
            *(r.server_ms_per_bill(server) for server in SERVERS),
            f"{r.worker_peak_mib():.0f} MiB",
            r.check,
        )
        for r in results
    ]
    print_table(
        f"billing_throughput ({WORKERS} worker processes, {threads} threads each, fake gateway, "
        "MariaDB + RabbitMQ)",
        [
            "gateway latency",
            "bills",
            "distribution",
            "all paid after",
            "bills/s",
            "bills/s 10→90 %",
            "worker CPU/bill",
            *(f"{server} CPU/bill" for server in SERVERS),
            "peak worker RSS",
            "check",
        ],
        rows,
    )
    memory = [
        (f"{r.latency_ms} ms", label, f"{kib / 1024:.0f} MiB")
        for r in results
        for label, kib in sorted(r.peak_rss_kib.items())
    ]
    print_table("peak VmRSS per process", ["gateway latency", "process", "peak"], memory)

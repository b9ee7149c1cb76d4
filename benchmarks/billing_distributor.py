"""Billing distributor: bill messages confirmed by RabbitMQ per second, 100,000 subscriptions.

`uv run python -m benchmarks --only billing_distributor`: a throw-away MariaDB database holding
100,000 due subscriptions and a throw-away RabbitMQ vhost; `distribute()` — the handler of the
hourly actor and of `billing run` — scans them by keyset pages and publishes one message each
with the BulkPublisher, counted once RabbitMQ confirmed it. Each run starts from an empty
`billing` queue, whose depth is checked against the count afterwards. A dry run (scan and plan,
no publishing) shows the database's share. Goal: ≥ 10,000 confirmed messages/s (fastest run).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import pika

from benchmarks.billing_support import DuePeriod, bench_vhost, seed_billable
from benchmarks.invoice_preview import bench_database
from benchmarks.support import print_table, verdict
from lineblocs_billing.distribution.distributor import Distributor, distribute
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.settings import load_settings

SUBSCRIPTIONS = 100_000
GOAL_PER_S = 10_000
QUEUE = "billing"


@dataclass
class Runs:
    name: str
    seconds: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def rate(self, seconds: float) -> float:
        return self.counts[0] / seconds

    @property
    def fastest(self) -> float:
        return self.rate(min(self.seconds))

    @property
    def median(self) -> float:
        return statistics.median(self.rate(s) for s in self.seconds)


def run(
    amqp_url: str, mysql_url: str, *, subscriptions: int = SUBSCRIPTIONS, repeat: int = 3
) -> bool:
    period = DuePeriod.ended_yesterday()
    with bench_database(mysql_url) as engine, bench_vhost(amqp_url) as vhost_url:
        started = time.monotonic()
        seed_billable(engine, subscriptions, period=period, cards=False)
        seeded_s = time.monotonic() - started
        settings = load_settings(
            queue_url=vhost_url, database_url=engine.url.render_as_string(False)
        )
        published, scanned = Runs("publish (confirmed)"), Runs("scan only (dry run)")
        base_mib = _reset_peak_rss()
        for _ in range(repeat):
            distributor = Distributor(
                engine=engine, clock=SystemClock(), publisher=BulkPublisher.from_settings(settings)
            )
            report = distribute(distributor)
            depth = _depth(vhost_url)
            if report.failed or report.enqueued != subscriptions or depth != subscriptions:
                raise RuntimeError(f"{report.line()}; queue depth {depth}")
            published.seconds.append(report.elapsed_s)
            published.counts.append(report.enqueued)
            _purge(vhost_url)
            dry = distribute(distributor, dry_run=True)
            scanned.seconds.append(dry.elapsed_s)
            scanned.counts.append(dry.to_enqueue)
    peak_mib = _peak_rss_mib() - base_mib
    rows = [
        (
            r.name,
            f"{r.counts[0]:,}",
            f"{r.fastest:,.0f}",
            f"{r.median:,.0f}",
            " ".join(f"{s:.2f}s" for s in r.seconds),
        )
        for r in (published, scanned)
    ]
    print_table(
        f"billing_distributor (MariaDB + RabbitMQ; seeding took {seeded_s:.0f}s; "
        f"the runs added {peak_mib:.1f} MiB to this process's peak RSS)",
        ["run", "subscriptions", "msg/s (fastest)", "median msg/s", "each run"],
        rows,
    )
    met = published.fastest >= GOAL_PER_S
    print_table(
        "goals",
        ["goal", "verdict"],
        [(f"≥ {GOAL_PER_S:,} confirmed bill messages/s", verdict(met))],
    )
    return met


def _reset_peak_rss() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS; return that, MiB."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _peak_rss_mib()


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _depth(amqp_url: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(QUEUE, passive=True).method.message_count)
    finally:
        connection.close()


def _purge(amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        connection.channel().queue_purge(QUEUE)
    finally:
        connection.close()

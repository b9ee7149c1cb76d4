"""Notifications end to end: e-mails per second against a bare smtplib loop, a daily sweep over
100,000 users, worker RSS.

`uv run python -m benchmarks --only notifications_throughput`, on a throw-away MariaDB database
and RabbitMQ vhost, with the test tree's real SMTP server (aiosmtpd; STARTTLS and AUTH):
1. **Mails per second.** 2,000 users inactive for a month; two `lineblocs-jobs worker
   notifications --processes 1` processes, ready before the clock starts. The clock runs from
   the inactivity sweep (the scheduled actor's handler, publishing with confirms) to the last
   ledger row `sent`: claimed, rendered, sent over SMTP, recorded, the user marked. The
   baseline, in the same run and to the same server: one smtplib connection (STARTTLS, AUTH)
   sending the very messages the workers sent, one after another. Goal: ≥ 0.5x the baseline.
   Worker memory (VmRSS from /proc) is sampled throughout. Goal: ≤ 150 MiB per worker process.
2. **A daily sweep over 100,000 users**, all due: scan in keyset pages, look each page up in
   the ledger, publish 100,000 `send_notification` messages with confirms. Goal: ≤ 60 s; the
   memory it allocates (tracemalloc peak) the same at 10,000 and 100,000 users.
"""

from __future__ import annotations

import smtplib
import ssl
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text

from benchmarks.billing_support import bench_vhost
from benchmarks.invoice_preview import bench_database
from benchmarks.support import (
    print_table,
    sample_rss,
    servers_cpu,
    verdict,
    worker_env,
    workers_cpu,
)
from lineblocs_notifications import bootstrap, handlers
from lineblocs_notifications.settings import NotificationSettings
from lineblocs_notifications.sweeps.inactivity import INACTIVITY
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from lineblocs_shared.models.tenants import User
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.settings import load_settings
from tests.support.smtp_server import PASSWORD, USER, SmtpServer
from tests.support.worker_supervisor import WorkerSupervisor, worker_argv

MAILS = 2_000
SWEEP_USERS = (10_000, 100_000)
WORKERS = 2
THREADS = 8
GOAL_RATIO = 0.5
GOAL_SWEEP_S = 60.0
GOAL_RSS_MIB = 150
TIMEOUT_S = 600.0
CHUNK = 5_000


@dataclass
class Throughput:
    mails: int
    ours_s: float = 0.0
    baseline_s: float = 0.0
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    worker_cpu_s: float = 0.0  # CPU time of the worker processes while measured
    smtp_cpu_s: float = 0.0  # CPU time of this process (the SMTP server's thread, mostly)
    server_cpu_s: dict[str, float | None] = field(default_factory=dict)  # MariaDB, RabbitMQ
    check: str = ""

    @property
    def ratio(self) -> float:
        return (self.mails / self.ours_s) / (self.mails / self.baseline_s)

    def worker_peak_mib(self) -> float:
        return max(v for k, v in self.peak_rss_kib.items() if k.endswith("worker")) / 1024


@dataclass
class SweepRun:
    users: int
    seconds: float
    enqueued: int
    peak_alloc_kib: int


def run(amqp_url: str, mysql_url: str, *, mails: int = MAILS) -> bool:
    with tempfile.TemporaryDirectory(prefix="lbj-bench-mail-") as folder:
        smtp = SmtpServer(Path(folder)).start()
        try:
            throughput = _throughput(amqp_url, mysql_url, smtp, mails=mails, folder=Path(folder))
        finally:
            smtp.stop()
    timed = _sweep(amqp_url, mysql_url, SWEEP_USERS[-1], traced=False)
    traced = [_sweep(amqp_url, mysql_url, users, traced=True) for users in SWEEP_USERS]
    return _report(throughput, timed, traced)


def _throughput(
    amqp_url: str, mysql_url: str, smtp: SmtpServer, *, mails: int, folder: Path
) -> Throughput:
    result = Throughput(mails=mails)
    with bench_database(mysql_url) as engine, bench_vhost(amqp_url) as vhost_url:
        _seed_inactive(engine, mails)
        _smtp_settings(engine, smtp)
        database_url = engine.url.render_as_string(False)
        workers = WorkerSupervisor(log_dir=folder)
        for n in range(1, WORKERS + 1):
            env = worker_env(database_url, vhost_url, THREADS, MAIL_TLS_CA_FILE=str(smtp.cert_file))
            workers.add(f"worker-{n}", worker_argv("notifications", threads=THREADS), env)
        workers.start()
        try:
            for name in workers.names:
                workers.wait_ready(name, timeout_s=60)
            result.ours_s = _measure(engine, vhost_url, workers, result)
        finally:
            workers.stop()
        result.check = _check(engine, smtp, mails)
    result.baseline_s = _bare_smtplib(smtp)
    return result


def _measure(
    engine: Engine, vhost_url: str, workers: WorkerSupervisor, result: Throughput
) -> float:
    settings = load_settings(queue_url=vhost_url, database_url=engine.url.render_as_string(False))
    deps = bootstrap.build(settings, engine=engine, options=NotificationSettings())
    cpu_before, own_before = workers_cpu(workers), time.process_time()
    servers_before = servers_cpu()
    started = time.monotonic()
    report = handlers.sweep(
        deps, INACTIVITY, BulkPublisher.from_settings(settings), trigger=Trigger(message_id="b")
    )
    assert report is not None
    if report.enqueued != result.mails:
        raise RuntimeError(f"the sweep enqueued {report.enqueued} of {result.mails}")
    while _sent(engine) < result.mails:
        sample_rss(workers, result.peak_rss_kib)
        if time.monotonic() - started > TIMEOUT_S:
            raise RuntimeError(f"{_sent(engine)} of {result.mails} sent after {TIMEOUT_S}s")
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    result.worker_cpu_s = workers_cpu(workers) - cpu_before
    result.smtp_cpu_s = time.process_time() - own_before
    result.server_cpu_s = {
        name: None if before is None or after is None else after - before
        for (name, before), after in zip(
            servers_before.items(), servers_cpu().values(), strict=True
        )
    }
    return elapsed


def _bare_smtplib(smtp: SmtpServer) -> float:
    """The same messages, one smtplib connection, nothing else: the ceiling of this server."""
    messages = list(smtp.handler.raw)  # byte for byte what the workers sent
    tls = ssl.create_default_context(cafile=str(smtp.cert_file))
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=30) as client:
        client.starttls(context=tls)
        client.login(USER, PASSWORD)
        for message in messages:
            client.sendmail(USER, ["someone@example.com"], message)
    return time.monotonic() - started


def _sweep(amqp_url: str, mysql_url: str, users: int, *, traced: bool) -> SweepRun:
    with bench_database(mysql_url) as engine, bench_vhost(amqp_url) as vhost_url:
        _seed_inactive(engine, users)
        settings = load_settings(
            queue_url=vhost_url, database_url=engine.url.render_as_string(False)
        )
        deps = bootstrap.build(settings, engine=engine, options=NotificationSettings())
        publisher = BulkPublisher.from_settings(settings)
        if traced:
            tracemalloc.start()  # slows Python down: a traced run's time is not reported
        started = time.monotonic()
        report = handlers.sweep(deps, INACTIVITY, publisher, trigger=Trigger(message_id="s"))
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
    assert report is not None
    return SweepRun(users, seconds, report.enqueued, peak // 1024)


def _seed_inactive(engine: Engine, count: int) -> None:
    """`count` users last seen a month ago, never reminded: every one due for `inactive_user`."""
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    base = User(name="Bench", username="", email="", last_login=seen).model_dump()
    for offset in range(0, count, CHUNK):
        ids = range(offset + 1, min(offset + CHUNK, count) + 1)
        rows = [
            {**base, "id": n, "username": f"bench-{n}", "email": f"bench-{n}@example.com"}
            for n in ids
        ]
        with engine.begin() as conn:
            conn.execute(insert(User), rows)


def _smtp_settings(engine: Engine, smtp: SmtpServer) -> None:
    credentials = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_user": USER,
        "smtp_password": PASSWORD,
        "smtp_tls": "tls",
    }
    with engine.begin() as conn:
        conn.execute(
            insert(CustomizationsKVStore),
            [_kv(CustomizationsKVStore, "mail_provider", "smtp-gateway")],
        )
        conn.execute(
            insert(ApiCredentialsKVStore),
            [_kv(ApiCredentialsKVStore, key, value) for key, value in credentials.items()],
        )


def _kv(store: type, key: str, value: object) -> dict[str, object]:
    return store.of(key, value).model_dump(exclude={"id"})  # type: ignore[attr-defined]


def _sent(engine: Engine) -> int:
    with engine.connect() as conn:
        sql = "SELECT COUNT(*) FROM lbj_notifications WHERE state = 'sent'"
        return int(conn.execute(text(sql)).scalar_one())


def _check(engine: Engine, smtp: SmtpServer, mails: int) -> str:
    """'ok' when the server got each mail once and every user is marked reminded."""
    received = smtp.messages
    ids = {str(m["Message-ID"]) for m in received}
    with engine.connect() as conn:
        marked = conn.execute(
            text("SELECT COUNT(*) FROM users WHERE last_login_reminded IS NOT NULL")
        ).scalar_one()
    if len(received) != mails or len(ids) != mails or marked != mails:
        return f"{len(received)} mails, {len(ids)} ids, {marked} users marked"
    return "ok"


def _report(throughput: Throughput, timed: SweepRun, traced: list[SweepRun]) -> bool:
    t = throughput
    print_table(
        f"notifications — {t.mails} inactivity mails, {WORKERS} workers x {THREADS} threads, "
        "SMTP with STARTTLS + AUTH",
        ["", "seconds", "mails/s"],
        [
            ("ours: sweep, workers, SMTP, ledger", f"{t.ours_s:.2f}", _rate(t.mails, t.ours_s)),
            ("bare smtplib loop", f"{t.baseline_s:.2f}", _rate(t.mails, t.baseline_s)),
            ("ours / baseline", "", f"{t.ratio:.2f}x"),
        ],
    )
    print_table(
        "notifications — where the CPU went, per mail (ours; all on this machine)",
        ["process", "CPU"],
        [
            ("worker processes", _ms_per(t.worker_cpu_s, t.mails)),
            ("SMTP server (this process)", _ms_per(t.smtp_cpu_s, t.mails)),
            *((name, _ms_per(seconds, t.mails)) for name, seconds in t.server_cpu_s.items()),
        ],
    )
    print_table(
        "notifications — worker peak RSS",
        ["process", "MiB"],
        [(name, f"{kib / 1024:.0f}") for name, kib in sorted(t.peak_rss_kib.items())],
    )
    print_table(
        "notifications — inactivity sweep, every user due (scan, ledger, publish with confirms)",
        ["users", "seconds", "enqueued", "users/s"],
        [_sweep_row(timed)],
    )
    print_table(
        "notifications — the sweep's memory (tracemalloc peak; traced runs, time not shown)",
        ["users", "peak allocated KiB"],
        [(f"{s.users:,}", f"{s.peak_alloc_kib:,}") for s in traced],
    )
    fast = t.ratio >= GOAL_RATIO
    small = t.worker_peak_mib() <= GOAL_RSS_MIB
    quick = timed.seconds <= GOAL_SWEEP_S and timed.enqueued == timed.users
    bounded = traced[-1].peak_alloc_kib <= 2 * traced[0].peak_alloc_kib
    print_table(
        "goals",
        ["goal", "verdict"],
        [
            (f"≥ {GOAL_RATIO}x the bare smtplib loop", verdict(fast)),
            (f"≤ {GOAL_RSS_MIB} MiB RSS per worker process", verdict(small)),
            (f"sweep of {timed.users:,} users ≤ {GOAL_SWEEP_S:.0f} s", verdict(quick)),
            ("sweep memory the same at 10x the users (≤ 2x)", verdict(bounded)),
            ("each mail sent once, every user marked", verdict(t.check == "ok")),
        ],
    )
    return fast and small and quick and bounded and t.check == "ok"


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


def _sweep_row(s: SweepRun) -> tuple[str, ...]:
    return (
        f"{s.users:,}",
        f"{s.seconds:.1f}",
        f"{s.enqueued:,}",
        _rate(s.users, s.seconds),
    )


def _ms_per(seconds: float | None, count: int) -> str:
    return "—" if seconds is None else f"{seconds / count * 1000:.1f} ms"

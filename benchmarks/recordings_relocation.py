"""Recording relocation end to end: recordings per second against a bare download-and-upload
loop, where the time goes, worker RSS.

`uv run python -m benchmarks --only recordings_relocation [--messages N] [--size-kib K]`, on a
throw-away MariaDB database and RabbitMQ vhost, with the test tree's fake ARI (aiohttp) and
moto's S3 server over HTTP on 127.0.0.1 (both in this process, sharing its CPU):
1. **Recordings per second.** N FINALIZED recordings of K KiB (default 1,000 of 1 MiB); two
   `lineblocs-jobs worker maintenance --processes 1` processes, ready before the clock starts.
   The clock runs from the sweep (the scheduled actor's handler, publishing with confirms) to
   the last media server copy deleted. The baseline, in the same run and against the same
   servers: one thread, one httpx client and one boto3 client, GET then `put_object` of each
   file, nothing else (no checksum, verify, database or delete), reported as a ratio. Goal:
   ≥ 10 recordings/s (36,000 an hour, far above what a Lineblocs deployment records). Worker
   memory (VmRSS) is sampled throughout. Goal: ≤ 150 MiB per worker process.
2. **Where the time goes**: the steps of one relocation timed one by one, in this process, over
   a sample: ARI download (streamed to a spooled file, SHA-256 on the way), S3 upload, verify
   (HEAD), database (attempt, plan, `s3_url`, mark) and the ARI delete.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, select

from benchmarks.billing_support import bench_vhost
from benchmarks.invoice_preview import bench_database
from benchmarks.support import print_table, sample_rss, verdict, worker_env
from lineblocs_maintenance import bootstrap, handlers
from lineblocs_maintenance.relocation import records
from lineblocs_maintenance.relocation.ari import Download
from lineblocs_maintenance.relocation.relocate import Relocation
from lineblocs_maintenance.relocation.storage import object_key
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore
from lineblocs_shared.models.tenants import User, Workspace
from lineblocs_shared.models.usage import Recording
from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from lineblocs_shared.settings import load_settings
from tests.support import ari_fake
from tests.support.ari_fake import AriFake
from tests.support.s3_server import BUCKET, S3Server, s3_server
from tests.support.worker_supervisor import WorkerSupervisor, worker_argv

RECORDINGS = 1_000
SIZE_KIB = 1024
WORKERS = 2
THREADS = 4
SAMPLE = 50
GOAL_RATE = 10.0
GOAL_RSS_MIB = 150
TIMEOUT_S = 900.0
HOST = "127.0.0.1"


@dataclass
class Relocated:
    recordings: int
    size_kib: int
    ours_s: float = 0.0
    baseline_s: float = 0.0
    baseline_count: int = 0
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    steps_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.recordings / self.ours_s

    @property
    def baseline_rate(self) -> float:
        return self.baseline_count / self.baseline_s


def run(
    amqp_url: str, mysql_url: str, *, recordings: int = RECORDINGS, size_kib: int = SIZE_KIB
) -> bool:
    result = Relocated(recordings, size_kib)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    ari = AriFake().start()
    try:
        with s3_server(versioned=False) as s3, tempfile.TemporaryDirectory() as folder:
            env = ari_fake.relocation_env(ari, s3.endpoint_url, HOST)
            with bench_database(mysql_url) as engine, bench_vhost(amqp_url) as vhost_url:
                _seed(engine, ari, s3, recordings + SAMPLE, size_kib)
                result.ours_s = _workers(engine, vhost_url, env, result, Path(folder))
                _time_steps(engine, ari, s3, env, result)
            _baseline(ari, s3, result)
    finally:
        ari.stop()
    return _report(result)


def _seed(engine: Engine, ari: AriFake, s3: S3Server, count: int, size_kib: int) -> None:
    with UnitOfWork(engine) as uow:
        user = uow.users.add(user=User(name="Bench", username="bench", email="b@x.test"))
        assert user.id is not None
        ws = uow.workspaces.add(workspace=Workspace(name="bench", creator_id=user.id))
        rows = [
            {
                "api_id": f"bench-{n}",
                "status": "FINALIZED" if n < count - SAMPLE else "RECORDING",
                "user_id": user.id,
                "workspace_id": ws.id,
                "storage_id": f"bench-{n}",
                "storage_server_ip": HOST,
                "uri": "",
                "tag": "",
                "name": "",
                "plan_snapshot": "",
                "transcription_text": "",
                "s3_url": "",
            }
            for n in range(count)
        ]
        uow.session.execute(insert(Recording), rows)
        uow.commit()
    for n in range(count):
        ari.add(f"bench-{n}", size=size_kib * 1024)
    with UnitOfWork(engine) as uow:
        for key, value in s3.site_credentials().items():
            uow.session.add(ApiCredentialsKVStore.of(key, value))
        uow.commit()


def _workers(
    engine: Engine, vhost_url: str, env: dict[str, str], result: Relocated, folder: Path
) -> float:
    database_url = engine.url.render_as_string(False)
    workers = WorkerSupervisor(log_dir=folder)
    for n in range(1, WORKERS + 1):
        workers.add(
            f"worker-{n}",
            worker_argv("maintenance", threads=THREADS),
            worker_env(database_url, vhost_url, THREADS, **env),
        )
    workers.start()
    try:
        for name in workers.names:
            workers.wait_ready(name, timeout_s=60)
        return _measure(engine, vhost_url, env, workers, result)
    finally:
        workers.stop()


def _measure(
    engine: Engine, vhost_url: str, env: dict[str, str], workers: WorkerSupervisor, r: Relocated
) -> float:
    settings = load_settings(queue_url=vhost_url, database_url=engine.url.render_as_string(False))
    deps = bootstrap.build(settings, engine=engine, options=MaintenanceSettings(**_options(env)))
    started = time.monotonic()
    report = handlers.relocate_recordings(
        deps, BulkPublisher.from_settings(settings), trigger=Trigger(message_id="bench")
    )
    assert report is not None
    if report.enqueued != r.recordings:
        raise RuntimeError(f"the sweep enqueued {report.enqueued} of {r.recordings}")
    while _relocated(engine) < r.recordings:
        sample_rss(workers, r.peak_rss_kib)
        if time.monotonic() - started > TIMEOUT_S:
            raise RuntimeError(f"{_relocated(engine)} of {r.recordings} after {TIMEOUT_S}s")
        time.sleep(0.1)
    return time.monotonic() - started


def _options(env: dict[str, str]) -> dict[str, object]:
    return {name.lower(): value for name, value in env.items()}


def _relocated(engine: Engine) -> int:
    """Recordings whose media server copy is deleted: the last step."""
    t = records.RELOCATIONS.c
    with engine.connect() as conn:
        stmt = select(func.count()).where(t.state == "relocated")
        return int(conn.execute(stmt).scalar_one())


def _time_steps(
    engine: Engine, ari: AriFake, s3: S3Server, env: dict[str, str], result: Relocated
) -> None:
    """The steps of one relocation, each timed, over the SAMPLE recordings no sweep took."""
    settings = load_settings(database_url=engine.url.render_as_string(False))
    deps = bootstrap.build(settings, engine=engine, options=MaintenanceSettings(**_options(env)))
    job = deps.relocation()
    with engine.connect() as conn:
        sample = (
            conn.execute(
                select(Recording.id).where(Recording.status == "RECORDING")  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
    totals: dict[str, float] = {}
    for recording_id in sample:
        for step, seconds in _one(job, int(recording_id)).items():
            totals[step] = totals.get(step, 0.0) + seconds
    result.steps_ms = {step: total / len(sample) * 1000 for step, total in totals.items()}
    deps.ari.close()


def _one(job: Relocation, recording_id: int) -> dict[str, float]:
    name, now = f"bench-{recording_id - 1}", job.clock.now
    times: dict[str, float] = {}

    def timed(step: str, call: Callable[[], object]) -> object:
        started = time.perf_counter()
        value = call()
        times[step] = times.get(step, 0.0) + time.perf_counter() - started
        return value

    timed("database", lambda: records.start_attempt(job.engine, recording_id, now()))
    with tempfile.SpooledTemporaryFile(max_size=job.spool_bytes) as spool:
        download = timed("ARI download", lambda: job.ari.download(HOST, name, spool))  # type: ignore[arg-type]
        assert isinstance(download, Download)
        key = object_key(recording_id, download.content_type)
        timed(
            "database", lambda: records.plan_object(job.engine, recording_id, now(), object_key=key)
        )
        spool.seek(0)
        timed("S3 upload", lambda: job.store.put(key, spool, download))  # type: ignore[arg-type]
    timed("verify (HEAD)", lambda: job.store.find(key))
    timed("database", lambda: records.write_url(job.engine, recording_id, key, now()))
    timed("ARI delete", lambda: job.ari.delete(HOST, name))
    timed("database", lambda: records.mark(job.engine, recording_id, "relocated", now()))
    return times


def _baseline(ari: AriFake, s3: S3Server, result: Relocated) -> None:
    """GET each file whole with httpx, put_object it with boto3: one thread, nothing else."""
    count = min(result.recordings, 300)
    with httpx.Client(auth=(ari_fake.USER, ari_fake.PASSWORD)) as client:
        base = ari.url_template.format(host=HOST)
        started = time.monotonic()
        for n in range(count):
            body = client.get(f"{base}/recordings/stored/bench-{n}/file").content
            s3.client.put_object(Bucket=BUCKET, Key=f"baseline/{n}.wav", Body=body)
        result.baseline_s = time.monotonic() - started
    result.baseline_count = count


def _report(r: Relocated) -> bool:
    ratio = r.rate / r.baseline_rate
    peak_mib = max(r.peak_rss_kib.values(), default=0) / 1024
    print_table(
        f"Recording relocation — {r.recordings} x {r.size_kib} KiB, {WORKERS} workers x "
        f"{THREADS} threads, fake ARI → moto S3",
        ["", "value"],
        [
            ("ours: recordings/s (sweep to last copy deleted)", f"{r.rate:.1f}"),
            ("ours: MiB/s", f"{r.rate * r.size_kib / 1024:.1f}"),
            (
                f"baseline: httpx GET + put_object, 1 thread ({r.baseline_count})",
                f"{r.baseline_rate:.1f}/s",
            ),
            ("ours / baseline", f"{ratio:.2f}x"),
            (f"goal ≥ {GOAL_RATE:.0f} recordings/s", verdict(r.rate >= GOAL_RATE)),
            (
                f"goal worker RSS ≤ {GOAL_RSS_MIB} MiB ({peak_mib:.0f})",
                verdict(peak_mib <= GOAL_RSS_MIB),
            ),
        ],
    )
    total = sum(r.steps_ms.values())
    print_table(
        f"Where one relocation's time goes (mean of {SAMPLE}, one at a time, in-process)",
        ["step", "ms", "share"],
        [(step, f"{ms:.1f}", f"{ms / total:.0%}") for step, ms in r.steps_ms.items()],
    )
    return r.rate >= GOAL_RATE and peak_mib <= GOAL_RSS_MIB

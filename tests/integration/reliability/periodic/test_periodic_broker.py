"""periodiq-format messages through the real RabbitMQ: duplicates of a tick run once.

Three periodiq schedulers would each send the same tick as its own message (same
`scheduled_at`, different message ids). We send exactly those messages, as periodiq's
`send_with_options(scheduled_at=str(pendulum_dt))` does, and let real workers consume them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pendulum
import pika
import pytest
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, func, select

from lineblocs_shared.clock import SystemClock
from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.logs import DebuggerLog
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.periodic.jobs import PeriodicJob, Trigger
from lineblocs_shared.reliability.periodic.runner import Period, PeriodicRunner
from lineblocs_shared.reliability.periodic.ticks import period_key
from lineblocs_shared.settings import load_settings
from tests.factories import make_user, make_workspace
from tests.integration.reliability.periodic.support import ledger, transitions
from tests.support.cli import CLI

pytestmark = pytest.mark.integration

SCHEDULERS = 3


def current_tick() -> pendulum.DateTime:
    """This minute's tick, as periodiq computes it (recent enough not to be skipped)."""
    return pendulum.now("UTC").replace(second=0, microsecond=0)


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def test_duplicate_ticks_through_rabbitmq_run_once(jobs_engine: Engine, amqp_url: str) -> None:
    settings = load_settings(
        queue_url=amqp_url, database_url=jobs_engine.url.render_as_string(hide_password=False)
    )
    broker = build_broker(settings)  # our middleware, PeriodiqMiddleware included
    queue = f"periodic-{uuid.uuid4().hex[:8]}"
    job = PeriodicJob(name=f"test.{queue}", cron="* * * * *")
    periodic_runner = PeriodicRunner(engine=jobs_engine, clock=SystemClock())
    ran: list[str] = []
    lock = threading.Lock()

    def handler(period: Period) -> dict[str, Any]:
        with lock:
            ran.append(period.run_key)
        time.sleep(0.2)  # long enough for the copies to arrive while it runs
        return {}

    def periodic_body() -> None:
        message = CurrentMessage.get_current_message()
        periodic_runner.run(job, handler, trigger=Trigger.of(message))

    actor = dramatiq.actor(
        periodic_body, broker=broker, actor_name=queue, queue_name=queue, periodic=job.spec
    )
    tick = current_tick()
    sent = [actor.send_with_options(scheduled_at=str(tick)) for _ in range(SCHEDULERS)]
    manual = actor.send()
    assert len({m.message_id for m in sent}) == SCHEDULERS

    worker = dramatiq.Worker(broker, worker_threads=SCHEDULERS + 1, worker_timeout=100)
    start_worker(worker)
    try:
        broker.join(queue, timeout=30_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()

    key = period_key(tick)
    assert sorted(ran) == sorted([key, f"manual:{manual.message_id}"])
    rows = ledger(jobs_engine, job.name)
    assert [(r.run_key, r.state, r.attempts) for r in rows] == [
        (key, "succeeded", 1),
        (f"manual:{manual.message_id}", "succeeded", 1),
    ]
    assert rows[0].message_id in {m.message_id for m in sent}
    assert transitions(jobs_engine, job.name, key) == [(None, "running"), ("running", "succeeded")]
    assert queue_depth(amqp_url, queue) == 0


@pytest.fixture
def logs_db(jobs_engine: Engine) -> Engine:
    now = datetime.now(UTC).replace(microsecond=0)
    with UnitOfWork(jobs_engine) as uow:
        workspace = make_workspace(uow, creator=make_user(uow))
        for n, age_days in enumerate((30, 9, 1)):
            uow.session.add(
                DebuggerLog(
                    from_="+15550001",
                    to="+15550002",
                    title="step",
                    report="{}",
                    workspace_id=workspace.id,
                    api_id=f"log-{n}",
                    created_at=now - timedelta(days=age_days),
                )
            )
        uow.commit()
    return jobs_engine


def test_the_maintenance_worker_purges_once_per_tick(logs_db: Engine, amqp_url: str) -> None:
    database_url = logs_db.url.render_as_string(hide_password=False)
    broker = build_broker(load_settings(queue_url=amqp_url, database_url=database_url))
    tick = current_tick()
    try:
        sent = [
            broker.enqueue(PURGE_LOGS.message(PurgeLogs(), scheduled_at=str(tick)))
            for _ in range(SCHEDULERS)
        ]
    finally:
        broker.close()

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=database_url, QUEUE_URL=amqp_url, LOG_LEVEL="INFO", WORKER_THREADS="3")
    worker = subprocess.Popen(
        [CLI, "worker", "maintenance", "--processes", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.poll() is None:
            rows = ledger(logs_db, "maintenance.purge_logs")
            if rows and rows[0].state == "succeeded" and queue_depth(amqp_url, "maintenance") == 0:
                time.sleep(1)  # the copies' claims take milliseconds; let them be acked
                break
            time.sleep(0.3)
    finally:
        worker.send_signal(signal.SIGTERM)  # graceful: in-flight messages finish and are acked
        output = worker.communicate(timeout=30)[0].decode()

    rows = ledger(logs_db, "maintenance.purge_logs")
    assert [(r.run_key, r.state, r.attempts) for r in rows] == [
        (period_key(tick), "succeeded", 1)
    ], output
    assert rows[0].message_id in {m.message_id for m in sent}
    assert queue_depth(amqp_url, "maintenance") == 0, output  # all three copies were consumed
    assert output.count("not claimed") == SCHEDULERS - 1, output
    with UnitOfWork(logs_db) as uow:
        kept = uow.session.execute(select(func.count()).select_from(DebuggerLog)).scalar_one()
    assert kept == 1  # 30- and 9-day-old logs purged by the one run, the 1-day-old one kept

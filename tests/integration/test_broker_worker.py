"""A message published through the shared broker factory is consumed by the right worker.

Real RabbitMQ (a vhost of this test session), real MariaDB, and a real `lineblocs-jobs worker`
process: the maintenance worker purges old logs when it receives the contract's message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import Engine, func, select

from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs
from lineblocs_shared.db import migrate
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.jobs import JobRun
from lineblocs_shared.models.logs import DebuggerLog
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.settings import load_settings
from tests.factories import make_user, make_workspace
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def _queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


@pytest.fixture
def prepared_db(lineblocs_engine: Engine) -> Engine:
    migrate.upgrade(lineblocs_engine)
    now = datetime.now(UTC).replace(microsecond=0)
    with UnitOfWork(lineblocs_engine) as uow:
        workspace = make_workspace(uow, creator=make_user(uow))
        for n, age_days in enumerate((30, 10, 8, 6, 1)):
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
    return lineblocs_engine


@pytest.fixture
def worker_env(prepared_db: Engine, amqp_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL=prepared_db.url.render_as_string(hide_password=False),
        QUEUE_URL=amqp_url,
        LOG_LEVEL="INFO",
        WORKER_THREADS="2",
        HEALTH_PORT="0",
        METRICS_PORT="0",
    )
    return env


@pytest.fixture
def start_worker(worker_env: dict[str, str]) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(service: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [CLI, "worker", service, "--processes", "1"],
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_broker_factory_publishes_with_confirms(amqp_url: str) -> None:
    broker = build_broker(load_settings(queue_url=amqp_url))
    try:
        assert isinstance(broker, RabbitmqBroker)
        assert broker.confirm_delivery is True
        # The publishing channel is in confirm mode: basic_publish waits for the broker's ack.
        assert broker.channel._delivery_confirmation is True
    finally:
        broker.close()


def test_maintenance_worker_consumes_the_contract_message(
    prepared_db: Engine, amqp_url: str, worker_env: dict[str, str], start_worker: object
) -> None:
    broker = build_broker(
        load_settings(queue_url=amqp_url, database_url=worker_env["DATABASE_URL"])
    )
    try:
        sent = PURGE_LOGS.send(broker, PurgeLogs(retention_days=7))
    finally:
        broker.close()
    assert _queue_depth(amqp_url, "maintenance") == 1

    worker = start_worker("maintenance")  # type: ignore[operator]
    run = _wait_for_run(prepared_db, message_id=sent.message_id, timeout_s=60, proc=worker)
    assert run.state == "succeeded"
    assert '"debugger_logs": 3' in (run.summary or "")
    with UnitOfWork(prepared_db) as uow:
        kept = uow.session.execute(select(func.count()).select_from(DebuggerLog)).scalar_one()
    assert kept == 2  # the 6-day and 1-day old logs
    assert _queue_depth(amqp_url, "maintenance") == 0


def _wait_for_run(
    engine: Engine, *, message_id: str, timeout_s: float, proc: subprocess.Popen[bytes]
) -> JobRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with UnitOfWork(engine) as uow:
            run = uow.session.execute(
                select(JobRun).where(JobRun.message_id == message_id)
            ).scalar_one_or_none()
        if run is not None and run.state in ("succeeded", "failed", "dead"):
            return run
        if proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"worker exited with {proc.returncode}:\n{output}")
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=30)[0].decode()
    pytest.fail(f"no finished run for message {message_id} within {timeout_s}s:\n{output}")

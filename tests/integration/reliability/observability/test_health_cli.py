"""`lineblocs-jobs health [--service S]`: what a container healthcheck sees."""

from __future__ import annotations

import os
import subprocess

import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from lineblocs_shared.db import migrate
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.settings import load_settings
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def health(*args: str, database_url: str, queue_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=database_url, QUEUE_URL=queue_url)
    return subprocess.run(
        [CLI, "health", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_service_health_fails_until_its_queues_exist(
    fresh_amqp_url: str, jobs_mysql_url: str
) -> None:
    # Database and broker answer: without --service that is ready, even with no queue yet.
    plain = health(database_url=jobs_mysql_url, queue_url=fresh_amqp_url)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("ok: database: answers; migrations: our tables at revision ")
    assert "; broker: connected" in plain.stdout

    missing = health(
        "--service", "maintenance", database_url=jobs_mysql_url, queue_url=fresh_amqp_url
    )
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [
        "lineblocs-jobs: queues: missing: maintenance, maintenance.DQ, maintenance.XQ "
        "(a worker declares them when it starts consuming)"
    ]

    broker = build_broker(load_settings(queue_url=fresh_amqp_url, database_url=jobs_mysql_url))
    assert isinstance(broker, RabbitmqBroker)
    try:
        broker.declare_queue("maintenance", ensure=True)
    finally:
        broker.close()
    ready = health(
        "--service", "maintenance", database_url=jobs_mysql_url, queue_url=fresh_amqp_url
    )
    assert ready.returncode == 0, ready.stderr
    assert "queues: present: maintenance, maintenance.DQ, maintenance.XQ" in ready.stdout


def test_health_worker_and_scheduler_refuse_a_database_without_our_tables(
    fresh_amqp_url: str, empty_mysql_url: str
) -> None:
    expected = "run `lineblocs-jobs db upgrade`"
    checked = health(database_url=empty_mysql_url, queue_url=fresh_amqp_url)
    assert checked.returncode == 1
    assert checked.stderr.strip().splitlines() == [
        "lineblocs-jobs: migrations: our tables are missing from this database (no migration "
        f"applied; this release needs revision {migrate.head_revision()}): {expected}"
    ]

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=empty_mysql_url, QUEUE_URL=fresh_amqp_url)
    for command in (["worker", "maintenance"], ["scheduler", "billing"]):
        refused = subprocess.run(
            [CLI, *command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert refused.returncode == 1, refused.stdout
        [line] = refused.stderr.strip().splitlines()  # one line, no traceback
        assert expected in line

"""Readiness against the real RabbitMQ and MariaDB: missing queues mean not ready."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import Engine

from lineblocs_shared.db import make_engine
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.reliability.observability.health import (
    CachedReadiness,
    CheckResult,
    DatabaseCheck,
    RabbitmqCheck,
)
from lineblocs_shared.reliability.observability.health_server import HealthServer
from lineblocs_shared.settings import load_settings

pytestmark = pytest.mark.integration

ALIVE = CheckResult("worker", True, "test")


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def health_url(fresh_amqp_url: str, jobs_mysql_url: str) -> Iterator[str]:
    engine = make_engine(jobs_mysql_url, pool_size=1)
    readiness = CachedReadiness(
        [
            ("database", DatabaseCheck(engine)),
            ("broker", RabbitmqCheck(fresh_amqp_url, ["maintenance"])),
        ],
        ttl_s=0,
    )
    server = HealthServer(
        host="127.0.0.1", port=0, liveness=lambda: ALIVE, readiness=readiness.report
    )
    assert server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    engine.dispose()


def test_readyz_waits_for_the_queue_and_its_delay_and_dead_letter_queues(
    health_url: str, fresh_amqp_url: str, jobs_mysql_url: str
) -> None:
    status, body = get(f"{health_url}/readyz")
    assert status == 503
    checks = body["checks"]
    assert checks["database"]["ok"] is True  # type: ignore[index]
    assert checks["broker"]["ok"] is True  # type: ignore[index]
    assert checks["queues"] == {  # type: ignore[index]
        "ok": False,
        "detail": "missing: maintenance, maintenance.DQ, maintenance.XQ "
        "(a worker declares them when it starts consuming)",
    }
    assert get(f"{health_url}/livez")[0] == 200

    # The main queue alone is not enough: retries and dead letters would have nowhere to go.
    connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
    connection.channel().queue_declare(
        "maintenance",
        durable=True,
        # What Dramatiq declares, so that its own declaration below agrees.
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "maintenance.XQ"},
    )
    connection.close()
    status, body = get(f"{health_url}/readyz")
    assert status == 503
    assert body["checks"]["queues"]["detail"].startswith(  # type: ignore[index]
        "missing: maintenance.DQ, maintenance.XQ"
    )

    broker = build_broker(load_settings(queue_url=fresh_amqp_url, database_url=jobs_mysql_url))
    assert isinstance(broker, RabbitmqBroker)
    try:
        broker.declare_queue("maintenance", ensure=True)
    finally:
        broker.close()
    status, body = get(f"{health_url}/readyz")
    assert (status, body["status"]) == (200, "ready"), body
    assert get(f"{health_url}/livez")[0] == 200


def test_readyz_fails_when_the_broker_is_unreachable(empty_mysql_engine: Engine) -> None:
    readiness = CachedReadiness(
        [
            ("database", DatabaseCheck(empty_mysql_engine)),
            ("broker", RabbitmqCheck("amqp://guest:guest@127.0.0.1:1/%2F", ["maintenance"])),
        ]
    )

    report = readiness.report()

    assert [(r.name, r.ok) for r in report.results] == [
        ("database", True),
        ("migrations", False),  # an empty database: our tables are not there either
        ("broker", False),
        ("queues", False),
    ]
    assert "RabbitMQ unreachable at 127.0.0.1:1" in report.results[2].detail


def test_readyz_says_when_our_tables_are_missing(
    empty_mysql_engine: Engine, fresh_amqp_url: str
) -> None:
    readiness = CachedReadiness(
        [("database", DatabaseCheck(empty_mysql_engine)), ("broker", RabbitmqCheck(fresh_amqp_url))]
    )
    server = HealthServer(
        host="127.0.0.1", port=0, liveness=lambda: ALIVE, readiness=readiness.report
    )
    assert server.start()
    try:
        status, body = get(f"http://127.0.0.1:{server.port}/readyz")
    finally:
        server.stop()

    assert status == 503
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["migrations"]["ok"] is False
    assert "run `lineblocs-jobs db upgrade`" in checks["migrations"]["detail"]

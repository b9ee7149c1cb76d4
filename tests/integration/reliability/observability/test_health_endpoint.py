"""The health middleware inside a Dramatiq Worker on the real RabbitMQ: up with it, down after."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import dramatiq
import pytest

from lineblocs_shared.db import make_engine
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.observability.health_server import HealthEndpoint
from lineblocs_shared.settings import load_settings
from tests.integration.reliability.observability.conftest import free_port

pytestmark = pytest.mark.integration


def test_the_endpoint_lives_and_dies_with_the_worker(
    fresh_amqp_url: str, jobs_mysql_url: str
) -> None:
    port = free_port()
    settings = load_settings(
        queue_url=fresh_amqp_url, database_url=jobs_mysql_url, health_port=port
    )
    broker = build_broker(settings)
    engine = make_engine(settings.database_url)
    broker.add_middleware(HealthEndpoint(settings, engine=engine, cache_ttl_s=0))
    broker.declare_queue("billing")
    worker = dramatiq.Worker(broker, queues={"billing"}, worker_threads=1, worker_timeout=100)
    start_worker(worker)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=5) as response:
            assert response.status == 200
        # The consumer declares billing, billing.DQ and billing.XQ as it starts.
        body = _ready_body(port)
        assert body["checks"]["queues"] == {  # type: ignore[index]
            "ok": True,
            "detail": "present: billing, billing.DQ, billing.XQ",
        }
    finally:
        worker.stop()
        broker.close()

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=5)


def _ready_body(port: int) -> dict[str, object]:
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError:
            time.sleep(0.1)  # consumers still declaring their queues
    pytest.fail("readyz never became ready")

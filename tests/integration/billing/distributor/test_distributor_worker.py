"""The hourly actor in a real billing worker: one distribution per tick, however many copies.

Two periodiq schedulers each send the same tick as a message of its own (same `scheduled_at`,
different message ids). The billing worker runs both; the tick's claim lets one distribute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import Engine

from lineblocs_billing.schedules import DISTRIBUTE_BILLS, DistributeBills
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.reliability.periodic.ticks import period_key
from lineblocs_shared.settings import load_settings
from tests.integration.billing.distributor.conftest import Tenants
from tests.integration.billing.distributor.test_distributor_schedule import runs

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
SCHEDULERS = 2


def test_the_billing_worker_distributes_once_per_tick(
    jobs_engine: Engine, billing_queue: str
) -> None:
    tenants = Tenants(jobs_engine)
    for _ in range(3):
        tenants.subscription()
    database_url = jobs_engine.url.render_as_string(False)
    settings = load_settings(queue_url=billing_queue, database_url=database_url)
    broker = build_broker(
        settings, dead_letters=InMemoryDeadLetterStore(), alerter=RecordingAlerter()
    )
    tick = pendulum.now("UTC").replace(second=0, microsecond=0)  # recent: not skipped as stale
    try:
        sent = [
            broker.enqueue(DISTRIBUTE_BILLS.message(DistributeBills(), scheduled_at=str(tick)))
            for _ in range(SCHEDULERS)
        ]
    finally:
        broker.close()

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL=database_url,
        QUEUE_URL=billing_queue,
        LOG_LEVEL="INFO",
        WORKER_THREADS="2",
        HEALTH_PORT="0",
        METRICS_PORT="0",
    )
    worker = subprocess.Popen(
        [CLI, "worker", "billing", "--processes", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and worker.poll() is None:
            if [r.state for r in runs(jobs_engine)] == ["succeeded"]:
                time.sleep(1)  # the copy's claim takes milliseconds; let it be acked
                break
            time.sleep(0.3)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()

    [run] = runs(jobs_engine)
    assert (run.run_key, run.state, run.attempts) == (period_key(tick), "succeeded", 1), output
    assert run.message_id in {m.message_id for m in sent}
    assert json.loads(run.summary or "{}")["enqueued"] == 3
    assert output.count("not claimed") == SCHEDULERS - 1, output

"""A real dramatiq master with two worker processes: health endpoint, metrics, JSON logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import dramatiq
import pytest

from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.settings import load_settings
from tests.conftest import REPO_ROOT
from tests.integration.reliability.observability.conftest import free_port

pytestmark = pytest.mark.integration


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(what: str, probe: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.communicate(timeout=30)[1]
            pytest.fail(f"worker exited with {proc.returncode} before {what}:\n{output}")
        try:
            if probe():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    pytest.fail(f"no {what} within 30s:\n{proc.communicate(timeout=30)[1]}")


def test_worker_serves_health_and_metrics_and_logs_json(
    fresh_amqp_url: str, jobs_mysql_url: str, tmp_path: Path
) -> None:
    queue = f"observed_{uuid.uuid4().hex[:8]}"
    health_port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL=jobs_mysql_url,
        QUEUE_URL=fresh_amqp_url,
        HEALTH_PORT=str(health_port),
        METRICS_PORT=str(metrics_port),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        OBSERVED_QUEUE=queue,
        dramatiq_prom_db=str(tmp_path),  # Dramatiq's metrics directory
    )
    module = "tests.integration.reliability.observability.observed_worker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", module, "--processes", "2", "--threads", "1"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    health = f"http://127.0.0.1:{health_port}"
    try:
        wait_for("readiness", lambda: http_get(f"{health}/readyz")[0] == 200, proc)
        ready = json.loads(http_get(f"{health}/readyz")[1])
        assert ready["checks"]["queues"]["detail"] == (f"present: {queue}, {queue}.DQ, {queue}.XQ")
        live_status, live_body = http_get(f"{health}/livez")
        assert live_status == 200
        assert json.loads(live_body)["status"] == "alive"

        sent = _send_two(fresh_amqp_url, jobs_mysql_url, queue)
        dead_letters = f'lbj_dead_letters_total{{actor="observed",queue="{queue}",reason="fatal"}}'
        processed = f'dramatiq_messages_total{{actor_name="observed",queue_name="{queue}"}}'

        def counted() -> bool:
            lines = http_get(f"http://127.0.0.1:{metrics_port}/metrics")[1].splitlines()
            return f"{dead_letters} 2.0" in lines and f"{processed} 2.0" in lines

        wait_for("metrics of both messages", counted, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 0, stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    runs = [e for e in entries if e["message"].startswith("observed run")]
    assert sorted((e["message_id"], e["run_id"], e["actor"], e["queue"]) for e in runs) == sorted(
        (message.message_id, str(message.args[0]), "observed", queue) for message in sent
    )
    assert "Traceback" not in stderr


def _send_two(amqp_url: str, database_url: str, queue: str) -> list[dramatiq.Message[object]]:
    broker = build_broker(load_settings(queue_url=amqp_url, database_url=database_url))
    try:
        return [
            broker.enqueue(dramatiq.Message(queue, "observed", (run_id,), {}, {}))
            for run_id in (101, 102)
        ]
    finally:
        broker.close()

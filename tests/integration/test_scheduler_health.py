"""A live `lineblocs-jobs scheduler` serves /livez and /readyz, so its container has a health
check as cheap as a worker's (issue 15): periodiq alone answers nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineblocs_shared.reliability.observability import probe
from tests.support.cli import CLI
from tests.support.live_worker import answers, http_status, wait_until
from tests.support.smtp_server import free_port


@pytest.fixture
def scheduler(jobs_mysql_url: str, amqp_url: str, tmp_path: Path) -> Iterator[int]:
    """`lineblocs-jobs scheduler maintenance`, live; yields its health port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "STRIPE_"))}
    env.update(
        DATABASE_URL=jobs_mysql_url,
        QUEUE_URL=amqp_url,
        HEALTH_PORT=str(port),
        METRICS_PORT="0",
        SENTRY_DSN="",
        LOG_FORMAT="json",
    )
    log_path = tmp_path / "scheduler.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [CLI, "scheduler", "maintenance"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            livez = f"http://127.0.0.1:{port}/livez"
            wait_until("the scheduler's /livez", lambda: answers(livez), process, timeout_s=60)
            yield port
            assert process.poll() is None, log_path.read_text()[-3000:]
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_scheduler_answers_liveness_and_readiness(scheduler: int) -> None:
    status, body = http_status(f"http://127.0.0.1:{scheduler}/livez")
    assert (status, body["status"]) == (200, "alive")
    status, body = http_status(f"http://127.0.0.1:{scheduler}/readyz")
    assert status == 200, body
    assert list(body["checks"]) == ["broker"]


def test_container_probe_passes_against_the_scheduler(scheduler: int) -> None:
    result = subprocess.run(
        [sys.executable, "-S", probe.__file__],
        env={"HEALTH_PORT": str(scheduler)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr

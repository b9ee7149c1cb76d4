"""`lineblocs-jobs worker` gives its dramatiq processes a metrics directory of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lineblocs_shared.cli.processes import METRICS_ROOT, PROM_DB_ENV
from tests.support.cli import CLI

pytestmark = pytest.mark.integration


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def test_the_worker_runs_with_its_own_empty_metrics_directory(
    jobs_mysql_url: str, fresh_amqp_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != PROM_DB_ENV}
    env.update(
        DATABASE_URL=jobs_mysql_url, QUEUE_URL=fresh_amqp_url, HEALTH_PORT="0", METRICS_PORT="0"
    )
    worker = subprocess.Popen(
        [CLI, "worker", "maintenance", "--processes", "1", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        expected = str(METRICS_ROOT / f"maintenance-{worker.pid}")
        deadline = time.monotonic() + 30
        seen = None
        while time.monotonic() < deadline and worker.poll() is None:
            seen = environ_of(worker.pid).get(PROM_DB_ENV)
            if seen is not None:
                break
            time.sleep(0.1)
        assert seen == expected  # the dramatiq master (exec kept the pid) and its children
        assert Path(expected).is_dir()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)

"""Every line a worker or a scheduler prints is in the configured format: with LOG_FORMAT=json
one JSON object per line — the dramatiq master's and periodiq's lines included, which used to
be dramatiq's own text — and with text, our one text format."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import CLI

pytestmark = pytest.mark.integration

# TextFormatter: "2026-12-07 01:02:03,456 INFO name message [context]"
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+ ")
PROGRAMS = {
    "worker": (["worker", "maintenance", "--processes", "1", "--threads", "1"], "is booting up"),
    "scheduler": (["scheduler", "maintenance"], "Starting Periodiq"),
}


def lines_of(command: list[str], ready: str, env: dict[str, str], log: Path) -> list[str]:
    """Run the command until it printed `ready` and a moment more, stop it, return its lines."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [CLI, *command], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while ready not in log.read_text() and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
            time.sleep(2)  # the worker process boots and logs too
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    return [line for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("program", list(PROGRAMS))
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_every_line_has_the_configured_format(
    program: str, log_format: str, jobs_mysql_url: str, fresh_amqp_url: str, tmp_path: Path
) -> None:
    command, ready = PROGRAMS[program]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL=jobs_mysql_url,
        QUEUE_URL=fresh_amqp_url,
        LOG_FORMAT=log_format,
        LOG_LEVEL="INFO",
        HEALTH_PORT="0",
        METRICS_PORT="0",
        dramatiq_prom_db=str(tmp_path),
    )

    lines = lines_of(command, ready, env, tmp_path / "out.log")

    assert any(ready in line for line in lines)
    if log_format == "json":
        entries = [json.loads(line) for line in lines]  # raises on a line that is not JSON
        assert {"ts", "level", "logger", "message"} <= set(entries[0])
    else:
        assert [line for line in lines if not TEXT_LINE.match(line)] == []

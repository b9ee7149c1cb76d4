"""`lineblocs-jobs health` when nothing answers: one line per failing check, exit 1."""

from __future__ import annotations

import os
import subprocess

from tests.support.cli import CLI


def test_one_line_per_failing_check() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL="mysql+pymysql://root@127.0.0.1:1/lineblocs",
        QUEUE_URL="amqp://guest:guest@127.0.0.1:1/%2F",
    )
    result = subprocess.run(
        [CLI, "health", "--service", "maintenance"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["database", "broker", "queues"]
    assert "database unreachable at mysql+pymysql://root@127.0.0.1:1/lineblocs" in lines[0]
    assert "RabbitMQ unreachable at 127.0.0.1:1" in lines[1]
    assert lines[2] == "lineblocs-jobs: queues: not checked: RabbitMQ unreachable"

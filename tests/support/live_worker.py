"""A live `lineblocs-jobs worker <service>` process for a test: started with the test's database,
RabbitMQ vhost and Sentry, waited for until `/livez` answers, stopped with SIGTERM (which must
work); and raw publishing to a queue with pika, as any publisher could.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika
import pytest
from sqlalchemy import Engine

from tests.support.cli import CLI
from tests.support.sentry_capture import SentryCapture
from tests.support.smtp_server import free_port


def publish(amqp_url: str, queue: str, raw: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, raw, pika.BasicProperties(delivery_mode=2))
    finally:
        connection.close()


def http_status(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_until(what: str, done: Any, proc: subprocess.Popen[str], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the worker exited ({proc.returncode}) before {what}")
        if done():
            return
        time.sleep(0.3)
    pytest.fail(f"no {what} within {timeout_s:.0f}s")


@dataclass
class RunningWorker:
    process: subprocess.Popen[str]
    env: dict[str, str]
    log: Path
    livez: str
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL the worker's whole process group at once, as a dying machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed = True

    def wait_until(self, what: str, done: Callable[[], bool]) -> None:
        wait_until(what, done, self.process)

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def running_worker(
    service: str,
    engine: Engine,
    amqp_url: str,
    sentry: SentryCapture,
    tmp_path: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[RunningWorker]:
    """`lineblocs-jobs worker <service>`, live; stopped with SIGTERM, which must work."""
    health = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(
        DATABASE_URL=engine.url.render_as_string(hide_password=False),
        QUEUE_URL=amqp_url,
        SENTRY_DSN=sentry.dsn,
        HEALTH_PORT=str(health),
        METRICS_PORT="0",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        dramatiq_prom_db=str(tmp_path),
    )
    env.update(extra_env or {})
    log_path = tmp_path / f"{service}-worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [CLI, "worker", service, "--processes", "1", "--threads", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: `kill` takes the master and children
        )
        worker = RunningWorker(process, env, log_path, f"http://127.0.0.1:{health}/livez")
        try:
            worker.wait_until("a live worker", lambda: answers(worker.livez))
            yield worker
        finally:
            if not worker.killed:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    pytest.fail(f"the {service} worker did not stop on SIGTERM")
    if not worker.killed:
        assert process.returncode == 0, worker.output()[-3000:]


def answers(url: str) -> bool:
    try:
        return http_status(url)[0] == 200
    except OSError:
        return False

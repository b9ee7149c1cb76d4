"""`lineblocs-jobs outbox relay` against the real MariaDB and RabbitMQ."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pika
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from lineblocs_shared.contracts import Contract
from lineblocs_shared.reliability.outbox.backlog import outbox_stats
from lineblocs_shared.reliability.outbox.writer import add_to_outbox
from tests.support.cli import CLI
from tests.support.outbox_scenario import PaymentFailedNotice

pytestmark = pytest.mark.integration


def cli_env(engine: Engine, amqp_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=engine.url.render_as_string(hide_password=False), QUEUE_URL=amqp_url)
    return env


def write_notices(engine: Engine, contract: Contract[PaymentFailedNotice], count: int) -> None:
    with Session(engine) as session:
        for n in range(count):
            add_to_outbox(session, contract, PaymentFailedNotice(invoice_id=n + 1))
        session.commit()


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def test_relay_once_publishes_the_backlog_and_reports_it(
    mariadb_engine: Engine, amqp_url: str, contract: Contract[PaymentFailedNotice]
) -> None:
    write_notices(mariadb_engine, contract, 3)

    result = subprocess.run(
        [CLI, "outbox", "relay", "--once"],
        env=cli_env(mariadb_engine, amqp_url),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "published 3, failed 0, left 0"
    assert queue_depth(amqp_url, contract.queue) == 3


def test_relay_loop_publishes_what_arrives_and_stops_on_sigterm(
    mariadb_engine: Engine, amqp_url: str, contract: Contract[PaymentFailedNotice]
) -> None:
    relay = subprocess.Popen(
        [CLI, "outbox", "relay", "--interval", "0.1"],
        env=cli_env(mariadb_engine, amqp_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        write_notices(mariadb_engine, contract, 2)  # committed while the relay runs
        deadline = time.monotonic() + 15
        while outbox_stats(mariadb_engine).backlog and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox_stats(mariadb_engine).backlog == 0
    finally:
        relay.send_signal(signal.SIGTERM)
        output = relay.communicate(timeout=30)[0]

    assert relay.returncode == 0, output
    assert queue_depth(amqp_url, contract.queue) == 2

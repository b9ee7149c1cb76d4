"""`lineblocs-jobs billing run`, as an operator runs it: a real process, MariaDB, RabbitMQ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pika
import pytest
from sqlalchemy import Engine

from lineblocs_billing.distribution.distributor import bill_message_id
from tests.integration.billing.distributor.conftest import NOW, Tenants, queue_depth
from tests.integration.billing.distributor.test_distributor_schedule import runs

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
NOW_ARG = NOW.isoformat()


def billing_run(engine: Engine, queue_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=engine.url.render_as_string(False), QUEUE_URL=queue_url)
    return subprocess.run(
        [CLI, "billing", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_enqueues_every_due_period_and_prints_one_summary_line(
    jobs_engine: Engine, billing_queue: str
) -> None:
    tenants = Tenants(jobs_engine)
    for _ in range(4):
        tenants.subscription()
    tenants.subscription(next_billing_date=datetime(2026, 9, 15, tzinfo=UTC))  # three periods due

    done = billing_run(jobs_engine, billing_queue, "--now", NOW_ARG)

    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith(
        "billing run: 5 subscriptions scanned, 7 periods due, 0 already settled, "
        "7 enqueued, 0 failed in "
    )
    assert queue_depth(billing_queue, "billing") == 7
    [run] = runs(jobs_engine)
    assert (run.run_key.startswith("manual:"), run.state) == (True, "succeeded")


def test_a_dry_run_prints_what_it_would_enqueue_and_writes_nothing(jobs_engine: Engine) -> None:
    tenants = Tenants(jobs_engine)
    subs = [tenants.subscription() for _ in range(12)]

    # memory:// is the embedded broker, which nothing outside the demo consumes: nothing could
    # be published even if the dry run tried.
    done = billing_run(jobs_engine, "memory://", "--dry-run", "--now", NOW_ARG)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"would enqueue subscription {subs[0].id} (workspace {subs[0].workspace_id}, MONTHLY) "
        "2026-10-15T00:00:00+00:00 -> 2026-11-15T00:00:00+00:00 as message "
        f"{bill_message_id(subs[0].id or 0, datetime(2026, 10, 15, tzinfo=UTC))}"
    )
    assert lines[10:] == [
        "... and 2 more",
        lines[-1],
    ]
    assert lines[-1].startswith("billing run: 12 subscriptions scanned, 12 periods due, ")
    assert "12 would be enqueued (dry run)" in lines[-1]
    assert runs(jobs_engine) == []  # not even a ledger row


def test_run_refuses_the_in_process_broker(jobs_engine: Engine) -> None:
    done = billing_run(jobs_engine, "memory://", "--now", NOW_ARG)

    assert done.returncode == 1
    assert done.stderr.strip().startswith("lineblocs-jobs: billing run needs RabbitMQ")


def test_run_refuses_a_future_now(jobs_engine: Engine, billing_queue: str) -> None:
    done = billing_run(jobs_engine, billing_queue, "--now", "2099-01-01T00:00:00Z")

    assert done.returncode == 1
    assert "is in the future" in done.stderr


def test_run_fails_with_one_line_when_rabbitmq_is_unreachable(jobs_engine: Engine) -> None:
    done = billing_run(jobs_engine, "amqp://guest:guest@127.0.0.1:1/%2F", "--now", NOW_ARG)

    assert done.returncode == 1
    assert done.stderr.strip().startswith("lineblocs-jobs: RabbitMQ unreachable")


def test_run_exits_1_and_names_the_messages_rabbitmq_refused(
    jobs_engine: Engine, billing_queue: str
) -> None:
    Tenants(jobs_engine).subscription()
    # A `billing` queue declared with other arguments than Dramatiq's: every declaration of
    # it, hence every publish, is refused (PRECONDITION_FAILED).
    connection = pika.BlockingConnection(pika.URLParameters(billing_queue))
    try:
        connection.channel().queue_declare("billing", durable=True, arguments={"x-max-length": 1})
    finally:
        connection.close()

    done = billing_run(jobs_engine, billing_queue, "--now", NOW_ARG)

    assert done.returncode == 1
    assert "not enqueued: message " in done.stderr
    assert "0 enqueued, 1 failed" in done.stdout
    assert [r.state for r in runs(jobs_engine)] == ["failed"]


def test_a_dry_run_as_json_is_one_object_with_the_sample(jobs_engine: Engine) -> None:
    tenants = Tenants(jobs_engine)
    subs = [tenants.subscription() for _ in range(12)]

    done = billing_run(jobs_engine, "memory://", "--dry-run", "--json", "--now", NOW_ARG)

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # the whole of stdout: one object, nothing else
    assert (document["dry_run"], document["due"], document["to_enqueue"]) == (True, 12, 12)
    assert document["sample"][0] == {
        "subscription_id": subs[0].id,
        "workspace_id": subs[0].workspace_id,
        "cycle": "MONTHLY",
        "period_start": "2026-10-15T00:00:00+00:00",
        "period_end": "2026-11-15T00:00:00+00:00",
        "message_id": bill_message_id(subs[0].id or 0, datetime(2026, 10, 15, tzinfo=UTC)),
    }
    assert len(document["sample"]) == 10
    assert document["not_enqueued"] == []
    assert done.stderr == ""  # no progress bar either

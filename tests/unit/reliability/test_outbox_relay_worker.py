"""The outbox on the embedded parts (SQLite, in-process broker): no services needed.

The relay thread a worker runs, the broker publisher's failure reporting, the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueNotFound
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col
from typer.testing import CliRunner

from lineblocs_shared.cli.app import app
from lineblocs_shared.contracts import PURGE_LOGS, Contract, Payload, PurgeLogs
from lineblocs_shared.models.jobs import OutboxMessage, ProcessedEvent
from lineblocs_shared.queue import bulk as bulk_fakes
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.outbox.backlog import purge_published
from lineblocs_shared.reliability.outbox.inbox import (
    current_event_id,
    first_delivery,
    purge_processed,
)
from lineblocs_shared.reliability.outbox.middleware import OutboxRelayMiddleware, relay_for_worker
from lineblocs_shared.reliability.outbox.publishers import (
    BrokerPublisher,
    RecordingOutboxPublisher,
    WindowedPublisher,
)
from lineblocs_shared.reliability.outbox.relay import OutboxRelay, RelayResult, run_relay
from lineblocs_shared.reliability.outbox.writer import add_to_outbox, message_of
from lineblocs_shared.settings import load_settings
from tests.support.cli import CLI


class Greeting(Payload):
    name: str


GREET = Contract(queue="greetings", actor="greet", payload=Greeting)


def write(engine: Engine, *names: str) -> list[OutboxMessage]:
    with Session(engine, expire_on_commit=False) as session:
        rows = [add_to_outbox(session, GREET, Greeting(name=name)) for name in names]
        session.commit()
    return rows


def unpublished_count(engine: Engine) -> int:
    with Session(engine) as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        return len(session.execute(stmt).scalars().all())


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_each_worker_relays_its_outbox_to_the_actors_which_act_once_per_event(
    sqlite_jobs_engine: Engine,
) -> None:
    settings = load_settings(database_url=url_of(sqlite_jobs_engine), queue_url="memory://")
    relay = relay_for_worker(settings, engine=sqlite_jobs_engine)
    relay_middleware = OutboxRelayMiddleware(relay, interval_s=0.05)
    broker = StubBroker(middleware=[CurrentMessage(), relay_middleware])
    greeted: list[str] = []

    def greet(**kwargs: Any) -> None:
        with Session(sqlite_jobs_engine) as session:
            if first_delivery(session, consumer="greet", event_id=current_event_id()):
                greeted.append(GREET.parse(kwargs).name)
            session.commit()

    dramatiq.actor(broker=broker, actor_name=GREET.actor, queue_name=GREET.queue)(greet)
    rows = write(sqlite_jobs_engine, "ada", "grace")
    worker = dramatiq.Worker(broker, worker_timeout=50)
    start_worker(worker)
    try:
        assert relay_middleware.running
        deadline = time.monotonic() + 10
        while len(greeted) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        # A duplicate delivery of the first event changes nothing.
        broker.enqueue(message_of(rows[0]))
        broker.join(GREET.queue)
        worker.join()
    finally:
        worker.stop()

    assert not relay_middleware.running
    assert sorted(greeted) == ["ada", "grace"]
    assert unpublished_count(sqlite_jobs_engine) == 0


def message_to(queue: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name="a", args=(), kwargs={}, options={})


def test_broker_publisher_reports_a_failed_message_and_goes_on_with_the_next() -> None:
    broker = StubBroker(middleware=[])
    broker.declare_queue("known")
    first, lost, later = message_to("known"), message_to("nowhere"), message_to("known")

    outcomes = BrokerPublisher(broker).publish_batch([first, lost, later])

    assert [o.message_id for o in outcomes] == [first.message_id, lost.message_id, later.message_id]
    assert [o.confirmed for o in outcomes] == [True, False, True]
    assert outcomes[1].error is not None
    assert outcomes[1].error.startswith(QueueNotFound.__name__)
    assert broker.queues["known"].qsize() == 2


def test_broker_publisher_gives_up_on_the_batch_after_failures_in_a_row() -> None:
    broker = StubBroker(middleware=[])
    broker.declare_queue("known")
    batch = [message_to("nowhere"), message_to("nowhere"), message_to("known")]

    outcomes = BrokerPublisher(broker, give_up_after=2).publish_batch(batch)

    assert [o.confirmed for o in outcomes] == [False, False, False]
    assert outcomes[2].error == "not sent: the 2 messages before it failed"
    assert broker.queues["known"].qsize() == 0


def test_windowed_publisher_confirms_all_but_what_the_bulk_publisher_failed(
    sqlite_jobs_engine: Engine,
) -> None:
    rows = write(sqlite_jobs_engine, "ada", "nack-me", "grace")
    bulk = bulk_fakes.RecordingMessagePublisher(
        refuse=lambda m: "nacked 5 times" if m.kwargs["name"] == "nack-me" else None
    )

    result = OutboxRelay(sqlite_jobs_engine, WindowedPublisher(bulk)).relay_once()

    assert (result.published, result.failed, result.backlog) == (2, 1, 1)
    assert [m.message_id for m in bulk.published] == [rows[0].event_id, rows[2].event_id]
    with Session(sqlite_jobs_engine) as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        [left] = session.execute(stmt).scalars().all()
    assert (left.event_id, left.last_error) == (rows[1].event_id, "nacked 5 times")


def test_broker_publisher_refuses_rabbitmq_without_confirms() -> None:
    unconfirmed = RabbitmqBroker(url="amqp://127.0.0.1:1", confirm_delivery=False, middleware=[])
    with pytest.raises(ValueError, match="confirm_delivery"):
        BrokerPublisher(unconfirmed)


def test_a_payload_of_another_contract_is_refused_and_nothing_written(
    sqlite_jobs_engine: Engine,
) -> None:
    with Session(sqlite_jobs_engine) as session, pytest.raises(TypeError, match="greet takes"):
        add_to_outbox(session, GREET, PurgeLogs(retention_days=3))  # type: ignore[misc]
    assert unpublished_count(sqlite_jobs_engine) == 0
    # A contract's own payload is written with the contract's queue and actor.
    with Session(sqlite_jobs_engine) as session:
        row = add_to_outbox(session, PURGE_LOGS, PurgeLogs(retention_days=3))
        assert (row.queue_name, row.actor_name) == ("maintenance", "purge_logs")
        assert json.loads(row.payload) == {"retention_days": 3}


def test_run_relay_outlives_a_failing_pass_and_stops_when_told(sqlite_jobs_engine: Engine) -> None:
    class FirstPassFails(OutboxRelay):
        passes = 0

        def relay_once(self, batch_size: int = 500) -> RelayResult:
            self.passes += 1
            if self.passes == 1:
                raise ConnectionError("database restarting")
            return super().relay_once(batch_size)

    write(sqlite_jobs_engine, "ada")
    publisher = RecordingOutboxPublisher()
    relay = FirstPassFails(sqlite_jobs_engine, publisher)
    stop = threading.Event()
    loop = threading.Thread(
        target=run_relay, args=(relay,), kwargs={"interval_s": 0.01, "stop_event": stop}
    )
    loop.start()
    deadline = time.monotonic() + 5
    while not publisher.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    loop.join(5)

    assert not loop.is_alive()
    assert [m.kwargs for m in publisher.messages] == [{"name": "ada"}]


def test_purge_forgets_old_published_rows_and_processed_events_only(
    sqlite_jobs_engine: Engine,
) -> None:
    now = datetime.now(UTC)
    old_sent, old_unsent, recent_sent = write(sqlite_jobs_engine, "a", "b", "c")
    with Session(sqlite_jobs_engine) as session:
        for row, published in ((old_sent, now - timedelta(days=40)), (recent_sent, now)):
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id)
                .values(published_at=published)
            )
        first_delivery(session, consumer="c", event_id="old", clock=_At(now - timedelta(days=40)))
        first_delivery(session, consumer="c", event_id="new")
        session.commit()

    cutoff = now - timedelta(days=30)
    assert purge_published(sqlite_jobs_engine, before=cutoff) == 1
    assert purge_processed(sqlite_jobs_engine, before=cutoff) == 1

    with Session(sqlite_jobs_engine) as session:
        kept = session.execute(select(col(OutboxMessage.event_id))).scalars().all()
        events = session.execute(select(col(ProcessedEvent.event_id))).scalars().all()
    assert sorted(kept) == sorted([old_unsent.event_id, recent_sent.event_id])
    assert events == ["new"]


class _At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def test_outbox_status_shows_the_backlog(sqlite_jobs_engine: Engine) -> None:
    write(sqlite_jobs_engine, "ada", "grace")
    OutboxRelay(sqlite_jobs_engine, RecordingOutboxPublisher()).relay_once(batch_size=1)

    result = CliRunner().invoke(
        app, ["outbox", "status"], env={"DATABASE_URL": url_of(sqlite_jobs_engine)}
    )

    assert result.exit_code == 0, result.output
    assert "backlog: 1 unpublished message(s)" in result.output
    assert "oldest unpublished: " in result.output
    assert "UTC" in result.output
    assert "failing: 0" in result.output


def test_outbox_relay_refuses_the_in_process_broker_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", QUEUE_URL="memory://")
    result = subprocess.run(
        [CLI, "outbox", "relay", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "lineblocs-jobs: outbox relay publishes to RabbitMQ: set QUEUE_URL=amqp://…"
    ]

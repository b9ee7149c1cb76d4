"""Fixtures of the outbox tests: our tables with the scenario's effect table, a test queue,
and a consumer (an in-process Dramatiq worker on RabbitMQ) that de-duplicates by event id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine

from lineblocs_shared.contracts import Contract
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.outbox.inbox import current_event_id
from tests.support.outbox_scenario import (
    PaymentFailedNotice,
    effects,
    notice_contract,
    send_notice,
)


@pytest.fixture
def mariadb_engine(jobs_engine: Engine) -> Engine:
    effects.create_all(jobs_engine)
    return jobs_engine


@pytest.fixture(params=["mariadb", "sqlite"])
def outbox_engine(request: pytest.FixtureRequest) -> Engine:
    """Our tables on the real MariaDB (row locks) and on the embedded SQLite (one writer)."""
    name = "jobs_engine" if request.param == "mariadb" else "sqlite_jobs_engine"
    engine: Engine = request.getfixturevalue(name)
    effects.create_all(engine)
    return engine


@pytest.fixture
def contract() -> Contract[PaymentFailedNotice]:
    """The notice contract on a queue of this test only (the vhost is shared by the session)."""
    return notice_contract(f"outbox-test-{uuid.uuid4().hex[:10]}")


class NoticeConsumer:
    """A Dramatiq worker whose actor sends each notice once per event id."""

    def __init__(self, amqp_url: str, engine: Engine, contract: Contract[PaymentFailedNotice]):
        self.broker = RabbitmqBroker(url=amqp_url, middleware=[CurrentMessage()])
        self.deliveries: list[str] = []
        self.errors: list[BaseException] = []

        def notify_payment_failed(**kwargs: Any) -> None:
            event_id = current_event_id()
            self.deliveries.append(event_id)
            try:
                notice = contract.parse(kwargs)
                send_notice(engine, invoice_id=notice.invoice_id, event_id=event_id)
            except Exception as exc:
                self.errors.append(exc)
                raise

        declare = dramatiq.actor(
            broker=self.broker, actor_name=contract.actor, queue_name=contract.queue
        )
        declare(notify_payment_failed)
        self.worker = dramatiq.Worker(self.broker, worker_timeout=100, worker_threads=2)

    def wait_for_deliveries(self, count: int, *, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.deliveries) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.deliveries)} of {count} deliveries within {timeout_s}s")
            time.sleep(0.05)
        self.worker.join()  # the last delivery has finished its work too
        assert not self.errors, self.errors


@pytest.fixture
def consumer(
    amqp_url: str, mariadb_engine: Engine, contract: Contract[PaymentFailedNotice]
) -> Iterator[NoticeConsumer]:
    notice_consumer = NoticeConsumer(amqp_url, mariadb_engine, contract)
    start_worker(notice_consumer.worker)
    yield notice_consumer
    notice_consumer.worker.stop()
    notice_consumer.broker.close()

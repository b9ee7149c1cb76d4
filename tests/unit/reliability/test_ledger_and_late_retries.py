"""Dead letters reach the job-run ledger; periodiq's stale skip spares retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pendulum
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.periodic.periodiq_skip import FirstDeliveryPeriodiq
from lineblocs_shared.settings import Settings


def _run(broker: StubBroker) -> None:
    worker = Worker(broker, worker_timeout=50)
    start_worker(worker)
    try:
        broker.join("ledger", timeout=20_000, fail_fast=False)
        worker.join()
    finally:
        worker.stop()


def test_a_dead_lettered_message_marks_its_runs_dead(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = Settings(database_url=url, queue_url="memory://", health_port=0, metrics_port=0)
    broker = build_broker(settings, alerter=RecordingAlerter())
    assert isinstance(broker, StubBroker)

    @dramatiq.actor(queue_name="ledger", broker=broker, max_retries=0)
    def flaky() -> None:
        message = CurrentMessage.get_current_message()
        assert message is not None
        with LedgerUnit(engine) as uow:
            uow.job_runs.start(job="test.flaky", run_key="k1", message_id=message.message_id)
            uow.commit()
        raise ConnectionError("gateway unreachable")  # transient, but no retry is left

    sent = flaky.send()
    _run(broker)

    with LedgerUnit(engine) as uow:
        run = uow.job_runs.get(job="test.flaky", run_key="k1")
        assert run is not None
        assert run.message_id == sent.message_id
        assert run.state == "dead"
        assert "retries_exhausted" in (run.last_error or "")


def _periodic_message(*, retries: int) -> dramatiq.Message[object]:
    long_ago = pendulum.instance(datetime.now(UTC) - timedelta(hours=2))
    options: dict[str, object] = {"scheduled_at": str(long_ago)}
    if retries:
        options["retries"] = retries
    return dramatiq.Message(
        queue_name="ledger", actor_name="tick", args=(), kwargs={}, options=options
    )


def test_a_late_first_delivery_is_skipped_but_a_late_retry_runs() -> None:
    broker = StubBroker(middleware=[FirstDeliveryPeriodiq(skip_delay=60)])
    ran: list[int] = []

    @dramatiq.actor(queue_name="ledger", broker=broker, periodic=None, actor_name="tick")
    def tick() -> None:
        ran.append(1)

    broker.enqueue(_periodic_message(retries=0))
    broker.enqueue(_periodic_message(retries=2))
    _run(broker)
    assert ran == [1]

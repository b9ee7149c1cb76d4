"""The hourly distribution: one per tick, whoever sends the tick and however often."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, select

from lineblocs_billing.distribution.distributor import Distributor
from lineblocs_billing.handlers import DistributionIncomplete, distribute_bills
from lineblocs_billing.schedules import DISTRIBUTE_BILLS_JOB
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import JobRun
from lineblocs_shared.queue.bulk import RecordingMessagePublisher
from lineblocs_shared.reliability.periodic.jobs import Trigger
from tests.integration.billing.distributor.conftest import NOW, Tenants

pytestmark = pytest.mark.integration

TICK = "2026-11-23T12:00:00+00:00"  # periodiq's scheduled_at of the 12:00 UTC tick


def runs(engine: Engine) -> list[JobRun]:
    with LedgerUnit(engine) as uow:
        stmt = select(JobRun).where(JobRun.job == DISTRIBUTE_BILLS_JOB.name).order_by(JobRun.id)  # type: ignore[arg-type]
        return list(uow.session.execute(stmt).scalars())


def test_two_messages_for_the_same_tick_distribute_once(
    billing_engine: Engine, tenants: Tenants
) -> None:
    for _ in range(3):
        tenants.subscription()
    publisher = RecordingMessagePublisher()
    distributor = Distributor(engine=billing_engine, clock=FixedClock(NOW), publisher=publisher)

    first = distribute_bills(distributor, trigger=Trigger(TICK, "scheduler-a"))
    second = distribute_bills(distributor, trigger=Trigger(TICK, "scheduler-b"))

    assert first is not None
    assert first.enqueued == 3
    assert second is None
    assert len(publisher.published) == 3
    [run] = runs(billing_engine)
    assert (run.run_key, run.state, run.attempts) == ("2026-11-23T12:00Z", "succeeded", 1)
    assert json.loads(run.summary or "{}")["enqueued"] == 3


def test_a_manual_run_is_its_own_run_and_is_recorded(
    billing_engine: Engine, tenants: Tenants
) -> None:
    tenants.subscription()
    publisher = RecordingMessagePublisher()
    distributor = Distributor(engine=billing_engine, clock=FixedClock(NOW), publisher=publisher)

    distribute_bills(distributor, trigger=Trigger(TICK, "scheduler-a"))
    manual = distribute_bills(distributor, trigger=Trigger())

    assert manual is not None
    assert manual.enqueued == 1
    assert [r.run_key.split(":")[0] for r in runs(billing_engine)] == ["2026-11-23T12", "manual"]


def test_unconfirmed_messages_fail_the_run_and_its_retry_publishes_them(
    billing_engine: Engine, tenants: Tenants
) -> None:
    for _ in range(2):
        tenants.subscription()
    broker_down = True

    def refuse(_message: dramatiq.Message[Any]) -> str | None:
        return "connection lost" if broker_down else None

    publisher = RecordingMessagePublisher(refuse)
    distributor = Distributor(engine=billing_engine, clock=FixedClock(NOW), publisher=publisher)
    trigger = Trigger(TICK, "scheduler-a")

    with pytest.raises(DistributionIncomplete, match="2 bill message"):
        distribute_bills(distributor, trigger=trigger)
    assert [(r.state, r.attempts) for r in runs(billing_engine)] == [("failed", 1)]

    broker_down = False
    retried = distribute_bills(distributor, trigger=trigger)  # Dramatiq's retry: same message

    assert retried is not None
    assert retried.enqueued == 2
    assert [(r.state, r.attempts) for r in runs(billing_engine)] == [("succeeded", 2)]

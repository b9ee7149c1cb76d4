"""Bad input through the real actors and the project's middleware (in-process worker threads,
MariaDB): what is dead-lettered with its context and alerted once, and what is a quiet no-op."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from sqlalchemy import Engine

from lineblocs_billing import bootstrap
from lineblocs_shared.contracts import (
    BILL_SUBSCRIPTION,
    RETRY_INVOICE_PAYMENT,
    BillSubscription,
    RetryInvoicePayment,
)
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.models.billing import BillingCycle, Subscription
from lineblocs_shared.models.jobs import DeadLetter
from lineblocs_shared.queue.broker import build_broker, declare_actors
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import SqlDeadLetterStore
from lineblocs_shared.settings import load_settings
from tests.factories import make_user, make_workspace
from tests.integration.billing.charging.conftest import Billed, without_fk_checks
from tests.integration.billing.invoicing.scenario import END, START

pytestmark = pytest.mark.integration


@dataclass
class InProcessWorker:
    broker: dramatiq.Broker
    store: SqlDeadLetterStore
    alerter: RecordingAlerter

    def run(self, *messages: dramatiq.Message[Any]) -> list[DeadLetter]:
        for message in messages:
            self.broker.enqueue(message)
        worker = Worker(self.broker, worker_threads=2, worker_timeout=100)
        start_worker(worker)
        try:
            self.broker.join("billing", timeout=20_000, fail_fast=False)  # type: ignore[attr-defined]
            worker.join()
        finally:
            worker.stop()
        return list(self.store.find(queue="billing"))


@pytest.fixture
def worker(billed: Billed) -> Iterator[InProcessWorker]:
    url = billed.engine.url.render_as_string(hide_password=False)
    settings = load_settings(database_url=url, queue_url="memory://", health_port=0, metrics_port=0)
    store, alerter = SqlDeadLetterStore(billed.engine), RecordingAlerter()
    broker = build_broker(settings, dead_letters=store, alerter=alerter)
    dramatiq.set_broker(broker)
    bootstrap.install(billed.deps)
    actors = importlib.import_module("lineblocs_billing.actors")
    declare_actors(broker, actors.BILLING_ACTORS)
    yield InProcessWorker(broker=broker, store=store, alerter=alerter)
    broker.close()


def _bill(subscription_id: int) -> dramatiq.Message[Any]:
    return BILL_SUBSCRIPTION.message(
        BillSubscription(subscription_id=subscription_id, period_start=START, period_end=END)
    )


def _subscription_on_a_missing_plan(engine: Engine) -> int:
    created: list[int] = []

    def write(uow: UnitOfWork) -> None:
        workspace = make_workspace(uow, creator=make_user(uow))
        subscription = uow.subscriptions.add(
            subscription=Subscription(
                workspace_id=workspace.id,  # type: ignore[arg-type]
                current_plan_id=987_654,  # no such plan
                billing_cycle=BillingCycle.MONTHLY,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                next_billing_date=END,
                current_period_end=END,
                billing_anchor_day=1,
            )
        )
        assert subscription.id is not None
        created.append(subscription.id)

    without_fk_checks(engine, write)
    return created[0]


def test_a_missing_plan_is_dead_lettered_once_with_one_alert(
    billed: Billed, worker: InProcessWorker
) -> None:
    subscription_id = _subscription_on_a_missing_plan(billed.engine)
    sent = _bill(subscription_id)

    [letter] = worker.run(sent)

    assert (letter.message_id, letter.reason, letter.attempts) == (sent.message_id, "fatal", 1)
    assert letter.exception_class == "lineblocs_billing.invoicing.drafting.PlanMissing"
    assert "987654" in (letter.exception_text or "")
    assert json.loads(letter.kwargs)["subscription_id"] == subscription_id
    assert [a.letter.message_id for a in worker.alerter.sent] == [sent.message_id]


def test_a_garbled_message_is_dead_lettered_with_its_context(
    billed: Billed, worker: InProcessWorker
) -> None:
    wrong_fields = dramatiq.Message(
        queue_name="billing",
        actor_name=BILL_SUBSCRIPTION.actor,
        args=(),
        kwargs={"subscription": "twelve", "period": "october"},
        options={},
    )
    positional = dramatiq.Message(
        queue_name="billing",
        actor_name=RETRY_INVOICE_PAYMENT.actor,
        args=(12,),
        kwargs={},
        options={},
    )
    unknown_actor = dramatiq.Message(
        queue_name="billing", actor_name="bill_everyone", args=(), kwargs={}, options={}
    )

    letters = {x.message_id: x for x in worker.run(wrong_fields, positional, unknown_actor)}

    assert letters.keys() == {m.message_id for m in (wrong_fields, positional, unknown_actor)}
    assert {x.attempts for x in letters.values()} <= {0, 1}  # never retried
    bad_fields = letters[wrong_fields.message_id]
    assert (bad_fields.reason, bad_fields.exception_class) == (
        "fatal",
        "pydantic_core._pydantic_core.ValidationError",
    )
    assert json.loads(bad_fields.kwargs) == {"subscription": "twelve", "period": "october"}
    assert letters[positional.message_id].exception_class == (
        "lineblocs_billing.actors.GarbledMessage"
    )
    assert letters[unknown_actor.message_id].reason == "unknown_actor"
    assert len(worker.alerter.sent) == 3


def test_a_subscription_that_no_longer_exists_is_a_logged_no_op(
    billed: Billed, worker: InProcessWorker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="lineblocs_billing.handlers"):
        letters = worker.run(_bill(424_242))

    assert letters == []
    assert worker.alerter.sent == []
    assert "subscription_missing" in caplog.text


def test_a_retry_for_an_unknown_billing_period_is_dead_lettered(
    billed: Billed, worker: InProcessWorker
) -> None:
    sent = RETRY_INVOICE_PAYMENT.message(RetryInvoicePayment(billing_period_id=999_999))

    [letter] = worker.run(sent)

    assert (letter.reason, letter.exception_class) == (
        "fatal",
        "lineblocs_shared.reliability.failures.taxonomy.FatalError",
    )
    assert "999999" in (letter.exception_text or "")


def test_a_bill_message_through_the_actor_invoices_and_charges(
    billed: Billed, worker: InProcessWorker
) -> None:
    tenant = billed.tenant(card="pm_card_ok")

    assert worker.run(_bill(tenant.subscription_id)) == []

    assert billed.invoice(tenant).status == "PAID"
    assert sum(billed.fake.successful_charges().values()) == 1

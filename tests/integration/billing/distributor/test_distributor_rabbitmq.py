"""The distributor through the real RabbitMQ: every bill is in the `billing` queue, once."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import dramatiq
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from lineblocs_billing.distribution.distributor import (
    DistributionReport,
    Distributor,
    bill_message_id,
    distribute,
)
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.contracts import BILL_SUBSCRIPTION
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.bulk import bulk_publisher_for
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.settings import load_settings
from tests.integration.billing.distributor.conftest import NOW, Tenants, queue_depth, take_all

pytestmark = pytest.mark.integration

SUBSCRIPTIONS = 2000
PERIOD_START = datetime(2026, 10, 15, tzinfo=UTC)
PERIOD_END = datetime(2026, 11, 15, tzinfo=UTC)


def test_2000_subscriptions_are_2000_confirmed_messages_in_the_billing_queue(
    jobs_engine: Engine, billing_queue: str
) -> None:
    subs = Tenants(jobs_engine).many(SUBSCRIPTIONS, next_billing_date=PERIOD_END)
    settings = load_settings(
        queue_url=billing_queue, database_url=jobs_engine.url.render_as_string(False)
    )
    # The worker's own broker declares the queues, exactly as `actors.current_distributor`.
    broker = build_broker(
        settings, dead_letters=InMemoryDeadLetterStore(), alerter=RecordingAlerter()
    )
    distributor = Distributor(
        engine=jobs_engine, clock=FixedClock(NOW), publisher=bulk_publisher_for(settings, broker)
    )
    try:
        started = time.monotonic()
        report = distribute(distributor)
        elapsed = time.monotonic() - started
    finally:
        broker.close()

    assert (report.scanned, report.due, report.enqueued, report.failed) == (
        SUBSCRIPTIONS,
        SUBSCRIPTIONS,
        SUBSCRIPTIONS,
        [],
    )
    assert queue_depth(billing_queue, "billing") == SUBSCRIPTIONS
    messages = [dramatiq.Message.decode(body) for body in take_all(billing_queue, "billing")]
    expected = {bill_message_id(sub.id or 0, PERIOD_START): sub.id for sub in subs}
    assert {m.message_id for m in messages} == set(expected)
    for message in messages:
        payload = BILL_SUBSCRIPTION.parse(message.kwargs)
        assert (message.queue_name, message.actor_name) == ("billing", "bill_subscription")
        assert payload.subscription_id == expected[message.message_id]
        assert (payload.period_start, payload.period_end) == (PERIOD_START, PERIOD_END)
    print(f"distributed {SUBSCRIPTIONS} bills in {elapsed:.2f}s ({SUBSCRIPTIONS / elapsed:,.0f}/s)")


def test_a_database_lost_mid_scan_fails_the_distribution_instead_of_truncating_it(
    jobs_engine: Engine, billing_queue: str
) -> None:
    """The publisher reads messages inside pika's I/O loop, which would take a database error
    raised there for a lost connection and end the stream as if complete."""
    tenants = Tenants(jobs_engine)
    for _ in range(5):
        tenants.subscription()
    settings = load_settings(
        queue_url=billing_queue, database_url=jobs_engine.url.render_as_string(False)
    )
    broker = build_broker(
        settings, dead_letters=InMemoryDeadLetterStore(), alerter=RecordingAlerter()
    )
    distributor = Distributor(
        engine=jobs_engine, clock=FixedClock(NOW), publisher=bulk_publisher_for(settings, broker)
    )

    def lose_the_table(_page: int, report: DistributionReport) -> None:
        if report.scanned == 2:  # after the first page: the next page query fails
            with jobs_engine.begin() as conn:
                conn.execute(text("RENAME TABLE subscriptions TO subscriptions_gone"))

    try:
        with pytest.raises(DBAPIError, match="subscriptions"):
            distribute(replace(distributor, page_size=2), progress=lose_the_table)
    finally:
        broker.close()

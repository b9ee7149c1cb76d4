"""The embedded mode (demo): the same distributor enqueues on the in-process broker."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine

from lineblocs_billing.distribution.distributor import Distributor, distribute
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.contracts import BILL_SUBSCRIPTION
from lineblocs_shared.queue.broker import build_broker
from lineblocs_shared.queue.bulk import bulk_publisher_for
from lineblocs_shared.reliability.failures.alerts import RecordingAlerter
from lineblocs_shared.reliability.failures.store import InMemoryDeadLetterStore
from lineblocs_shared.settings import load_settings
from tests.integration.billing.distributor.conftest import NOW, Tenants

pytestmark = pytest.mark.integration


def test_with_queue_url_memory_bills_go_to_the_in_process_broker(
    sqlite_jobs_engine: Engine,
) -> None:
    tenants = Tenants(sqlite_jobs_engine)
    subs = [tenants.subscription() for _ in range(3)]
    settings = load_settings(
        queue_url="memory://", database_url=sqlite_jobs_engine.url.render_as_string(False)
    )
    broker = build_broker(
        settings, dead_letters=InMemoryDeadLetterStore(), alerter=RecordingAlerter()
    )
    assert isinstance(broker, StubBroker)
    broker.declare_queue("billing")  # the billing actors declare it when imported

    report = distribute(
        Distributor(
            engine=sqlite_jobs_engine,
            clock=FixedClock(NOW),
            publisher=bulk_publisher_for(settings, broker),
        )
    )

    assert (report.enqueued, report.failed) == (3, [])
    queued = [dramatiq.Message.decode(broker.queues["billing"].get()) for _ in range(3)]
    assert [BILL_SUBSCRIPTION.parse(m.kwargs).subscription_id for m in queued] == [
        s.id for s in subs
    ]
    broker.close()

"""Fixtures of the chaos test: localstripe behind a watched proxy, RabbitMQ queues, workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.billing.chaos.chaos import WatchedStripeProxy
from tests.integration.billing.chaos.observe import drop_queues
from tests.support.cuttable_relay import CuttableRelay
from tests.support.localstripe_server import LocalStripe
from tests.support.payment_fixtures import localstripe
from tests.support.worker_supervisor import WorkerSupervisor

__all__ = ["localstripe"]  # fixture, re-exported

QUEUES = ("billing", "notifications")


@pytest.fixture(params=["keys honoured", "keys ignored"])
def chaos_stripe(
    request: pytest.FixtureRequest, localstripe: LocalStripe
) -> Iterator[WatchedStripeProxy]:
    """Stripe as it is (idempotency keys replayed), and a gateway that ignores the keys: the
    rules ask for one charge per period even then (create, store the id, then confirm)."""
    proxy = WatchedStripeProxy(localstripe.url)
    proxy.honor_idempotency = request.param == "keys honoured"
    yield proxy
    proxy.close()


@pytest.fixture
def chaos_queues(amqp_url: str) -> Iterator[str]:
    """This session's RabbitMQ vhost without billing/notifications queues, before and after."""
    drop_queues(amqp_url, *QUEUES)
    yield amqp_url
    drop_queues(amqp_url, *QUEUES)


@pytest.fixture
def broker_relay(chaos_queues: str) -> Iterator[CuttableRelay]:
    relay = CuttableRelay(chaos_queues)
    yield relay
    relay.close()


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[WorkerSupervisor]:
    workers = WorkerSupervisor(log_dir=tmp_path)
    yield workers
    workers.stop()

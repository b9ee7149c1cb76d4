"""Dramatiq actors of the billing service: thin, they validate the message and call a handler.

`@dramatiq.actor` binds to the global broker at import: `lineblocs_billing.worker` (or the
demo) installs the broker and the composition root before importing this module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq

from lineblocs_billing import bootstrap, handlers
from lineblocs_billing.distribution.distributor import Distributor
from lineblocs_billing.schedules import (
    DISTRIBUTE_BILLS,
    DISTRIBUTE_BILLS_JOB,
    SWEEP_DUNNING,
    SWEEP_DUNNING_JOB,
    DistributeBills,
    SweepDunning,
)
from lineblocs_shared.contracts import BILL_SUBSCRIPTION, RETRY_INVOICE_PAYMENT
from lineblocs_shared.queue.bulk import bulk_publisher_for
from lineblocs_shared.reliability.failures.taxonomy import FatalError
from lineblocs_shared.reliability.periodic.jobs import Trigger, periodic_actor

# Billing a period (with catch-up) or one dunning try: a few gateway calls of at most
# PAYMENT_TIMEOUT_S each, with the SDK's retries. A time limit that strikes mid-charge is a
# kill like any other: the retry resumes the attempt.
BILL_TIME_LIMIT = timedelta(minutes=10)
RETRY_TIME_LIMIT = timedelta(minutes=5)
# Transient failures (gateway or database away, a payment still processing, the period busy
# with another delivery): retried for up to 3 hours, 10 s first, at most 10 min apart. Past
# that, a dead letter and one alert; the dunning sweep brings the period back later anyway.
SETTLING_RETRIES: dict[str, Any] = {
    "max_retries": 25,
    "min_backoff": 10_000,
    "max_backoff": 10 * 60_000,
    "retry_for_ms": 3 * 60 * 60_000,
}


class GarbledMessage(FatalError):
    """A billing message that no payload can come from (positional arguments)."""


def _kwargs_only(actor: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    # A TypeError would be retried for hours as an unknown (transient) error: fail it now.
    if args:
        raise GarbledMessage(f"{actor} takes keyword arguments only, got {len(args)} positional")
    return kwargs


def _publisher() -> Any:
    """Confirmed bulk publishing on RabbitMQ; `broker.enqueue` on the in-process broker."""
    return bulk_publisher_for(bootstrap.current().settings, dramatiq.get_broker())


@periodic_actor(DISTRIBUTE_BILLS_JOB, DISTRIBUTE_BILLS)
def distribute_bills(_payload: DistributeBills, trigger: Trigger) -> None:
    deps = bootstrap.current()
    distributor = Distributor(engine=deps.engine, clock=deps.clock, publisher=_publisher())
    handlers.distribute_bills(distributor, trigger=trigger)


@dramatiq.actor(
    actor_name=BILL_SUBSCRIPTION.actor,
    queue_name=BILL_SUBSCRIPTION.queue,
    time_limit=BILL_TIME_LIMIT // timedelta(milliseconds=1),
    **SETTLING_RETRIES,
)
def bill_subscription(*args: Any, **kwargs: Any) -> None:
    payload = BILL_SUBSCRIPTION.parse(_kwargs_only(BILL_SUBSCRIPTION.actor, args, kwargs))
    handlers.bill_subscription(bootstrap.current(), payload)


@dramatiq.actor(
    actor_name=RETRY_INVOICE_PAYMENT.actor,
    queue_name=RETRY_INVOICE_PAYMENT.queue,
    time_limit=RETRY_TIME_LIMIT // timedelta(milliseconds=1),
    **SETTLING_RETRIES,
)
def retry_invoice_payment(*args: Any, **kwargs: Any) -> None:
    kwargs = _kwargs_only(RETRY_INVOICE_PAYMENT.actor, args, kwargs)
    handlers.retry_invoice_payment(bootstrap.current(), RETRY_INVOICE_PAYMENT.parse(kwargs))


@periodic_actor(SWEEP_DUNNING_JOB, SWEEP_DUNNING)
def sweep_dunning(_payload: SweepDunning, trigger: Trigger) -> None:
    handlers.sweep_dunning(bootstrap.current(), _publisher(), trigger=trigger)


BILLING_ACTORS = (distribute_bills, bill_subscription, retry_invoice_payment, sweep_dunning)

"""Dramatiq actors of the billing service: thin, they validate the message and call a handler.

`@dramatiq.actor` binds to the global broker at import: `lineblocs_billing.worker` (or the
demo) installs the broker and the composition root before importing this module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from lineblocs_billing import composition, handlers
from lineblocs_billing.distributor import Distributor, build_distributor
from lineblocs_billing.distributor_job import (
    DISTRIBUTE_BILLS,
    DISTRIBUTE_BILLS_SCHEDULE,
    DISTRIBUTE_BILLS_TIME_LIMIT,
    run_distribution,
)
from lineblocs_billing.dunning_job import (
    SWEEP_DUNNING,
    SWEEP_DUNNING_SCHEDULE,
    SWEEP_DUNNING_TIME_LIMIT,
    run_sweep,
)
from lineblocs_shared.contracts import BILL_SUBSCRIPTION, RETRY_INVOICE_PAYMENT
from lineblocs_shared.reliability.bulk import bulk_publisher_for
from lineblocs_shared.reliability.errors import FatalError
from lineblocs_shared.reliability.periodic import Trigger

# --- distribution: the hourly fan-out of bill messages --------------------------------------


def current_distributor() -> Distributor:
    deps = composition.current()
    return build_distributor(
        deps.settings, engine=deps.engine, clock=deps.clock, broker=dramatiq.get_broker()
    )


@dramatiq.actor(
    actor_name=DISTRIBUTE_BILLS.actor,
    queue_name=DISTRIBUTE_BILLS.queue,
    periodic=DISTRIBUTE_BILLS_SCHEDULE.spec,
    # A broker that refuses publishes: a few quick retries, then a dead letter and one alert;
    # the next hourly tick distributes again anyway.
    max_retries=3,
    min_backoff=5_000,
    max_backoff=60_000,
    time_limit=DISTRIBUTE_BILLS_TIME_LIMIT // timedelta(milliseconds=1),
)
def distribute_bills(**kwargs: Any) -> None:
    DISTRIBUTE_BILLS.parse(kwargs)
    run_distribution(
        current_distributor(), trigger=Trigger.of(CurrentMessage.get_current_message())
    )


# --- billing and settling (bill_subscription, retry_invoice_payment) go below ---------------

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


@dramatiq.actor(
    actor_name=BILL_SUBSCRIPTION.actor,
    queue_name=BILL_SUBSCRIPTION.queue,
    time_limit=BILL_TIME_LIMIT // timedelta(milliseconds=1),
    **SETTLING_RETRIES,
)
def bill_subscription(*args: Any, **kwargs: Any) -> None:
    payload = BILL_SUBSCRIPTION.parse(_kwargs_only(BILL_SUBSCRIPTION.actor, args, kwargs))
    handlers.bill_subscription(composition.current(), payload)


@dramatiq.actor(
    actor_name=RETRY_INVOICE_PAYMENT.actor,
    queue_name=RETRY_INVOICE_PAYMENT.queue,
    time_limit=RETRY_TIME_LIMIT // timedelta(milliseconds=1),
    **SETTLING_RETRIES,
)
def retry_invoice_payment(*args: Any, **kwargs: Any) -> None:
    kwargs = _kwargs_only(RETRY_INVOICE_PAYMENT.actor, args, kwargs)
    handlers.retry_invoice_payment(composition.current(), RETRY_INVOICE_PAYMENT.parse(kwargs))


@dramatiq.actor(
    actor_name=SWEEP_DUNNING.actor,
    queue_name=SWEEP_DUNNING.queue,
    periodic=SWEEP_DUNNING_SCHEDULE.spec,
    max_retries=3,
    min_backoff=5_000,
    max_backoff=60_000,
    time_limit=SWEEP_DUNNING_TIME_LIMIT // timedelta(milliseconds=1),
)
def sweep_dunning(**kwargs: Any) -> None:
    SWEEP_DUNNING.parse(kwargs)
    deps = composition.current()
    publisher = bulk_publisher_for(deps.settings, dramatiq.get_broker())
    run_sweep(deps, publisher, trigger=Trigger.of(CurrentMessage.get_current_message()))


BILLING_ACTORS = (distribute_bills, bill_subscription, retry_invoice_payment, sweep_dunning)


def declare_on(broker: dramatiq.Broker) -> None:
    """Make `broker` run the billing actors even if this module was imported under another
    broker first (tests, the demo: one process, several brokers in turn)."""
    for actor in BILLING_ACTORS:
        if actor.actor_name not in broker.actors:
            broker.declare_actor(actor)

"""Dramatiq actors of the billing service: thin, they validate the message and call a handler.

`@dramatiq.actor` binds to the global broker at import: `lineblocs_billing.worker` (or the
demo) installs the broker and the composition root before importing this module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from lineblocs_billing import composition
from lineblocs_billing.distributor import Distributor, build_distributor
from lineblocs_billing.distributor_job import (
    DISTRIBUTE_BILLS,
    DISTRIBUTE_BILLS_SCHEDULE,
    DISTRIBUTE_BILLS_TIME_LIMIT,
    run_distribution,
)
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

"""A process the outbox crash tests SIGKILL at a chosen point.

python -m tests.support.outbox_crash commit DATABASE_URL QUEUE INVOICE_ID
    commits the failed payment and its outbox row, prints `READY <event id>`, then hangs
    where a relay would have published.
python -m tests.support.outbox_crash publish DATABASE_URL AMQP_URL
    relays with confirms to RabbitMQ, prints `READY <message ids>` once the broker has
    confirmed, then hangs before the relay marks the rows published.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import dramatiq

from lineblocs_shared.db import make_engine
from lineblocs_shared.db.uow import UnitOfWork
from lineblocs_shared.reliability.outbox.publishers import (
    BrokerPublisher,
    confirmed_publishing_broker,
)
from lineblocs_shared.reliability.outbox.relay import OutboxPublisher, OutboxRelay, PublishOutcome
from tests.support.outbox_scenario import fail_payment, notice_contract

HANG_S = 600


def ready(detail: str) -> None:
    print(f"READY {detail}", flush=True)
    time.sleep(HANG_S)  # the test SIGKILLs us here
    sys.exit(f"not killed within {HANG_S}s")


class HangAfterConfirms:
    def __init__(self, inner: OutboxPublisher) -> None:
        self._inner = inner

    def publish_batch(self, messages: Sequence[dramatiq.Message[Any]]) -> list[PublishOutcome]:
        outcomes = self._inner.publish_batch(messages)
        ready(",".join(o.message_id for o in outcomes if o.confirmed))
        return outcomes


def commit_then_hang(database_url: str, queue: str, invoice_id: str) -> None:
    engine = make_engine(database_url)
    with UnitOfWork(engine) as uow:
        row = fail_payment(uow, invoice_id=int(invoice_id), contract=notice_contract(queue))
        uow.commit()
    ready(row.event_id)


def publish_then_hang(database_url: str, amqp_url: str) -> None:
    publisher = HangAfterConfirms(BrokerPublisher(confirmed_publishing_broker(amqp_url)))
    OutboxRelay(make_engine(database_url), publisher).relay_once()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "commit":
        commit_then_hang(*args)
    elif mode == "publish":
        publish_then_hang(*args)
    else:
        sys.exit(f"unknown mode {mode!r}")

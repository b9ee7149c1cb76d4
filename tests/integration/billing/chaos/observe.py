"""What the chaos test reads: progress while it runs, the ledger and the gateway at the end.

Plain SQL on our tables and Lineblocs' (no repository: the test must see rows as they are,
duplicates included), and localstripe's own intents (where the money would be).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pika
from pika.exceptions import ChannelClosedByBroker
from sqlalchemy import Engine, text

UNRESOLVED_ATTEMPTS = ("pending", "created")


@dataclass(frozen=True)
class Progress:
    periods: Counter[str]  # lbj_billing_periods rows by state
    unresolved_attempts: int

    @property
    def paid(self) -> int:
        return self.periods["paid"]


def progress(engine: Engine) -> Progress:
    with engine.connect() as conn:
        periods = Counter(
            {
                str(state): int(count)
                for state, count in conn.execute(
                    text("SELECT state, COUNT(*) FROM lbj_billing_periods GROUP BY state")
                )
            }
        )
        unresolved = conn.execute(
            text("SELECT COUNT(*) FROM lbj_payment_attempts WHERE state IN ('pending', 'created')")
        ).scalar_one()
    return Progress(periods=periods, unresolved_attempts=int(unresolved))


def attempt_state(engine: Engine, attempt_key: str) -> str | None:
    with engine.connect() as conn:
        state = conn.execute(
            text("SELECT state FROM lbj_payment_attempts WHERE attempt_key = :key"),
            {"key": attempt_key},
        ).scalar_one_or_none()
    return None if state is None else str(state)


def rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(sql))]


def invoices(engine: Engine) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT id, workspace_id, deduplication_key, status, cents_including_taxes, "
        "cents_collected, payment_gateway_id, num_attempts FROM users_invoices ORDER BY id",
    )


def billing_periods(engine: Engine) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT workspace_id, subscription_id, period_start, state, invoice_id, total_cents "
        "FROM lbj_billing_periods ORDER BY id",
    )


def payment_attempts(engine: Engine) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT workspace_id, attempt_no, attempt_key, state, amount_cents, gateway_payment_id "
        "FROM lbj_payment_attempts ORDER BY id",
    )


def invoice_payments_by_workspace(engine: Engine) -> Counter[int]:
    return Counter(
        int(row["workspace_id"])
        for row in rows(engine, "SELECT workspace_id FROM users_invoices_payments")
    )


def receipts_by_invoice(engine: Engine) -> Counter[int]:
    """Receipt events written to the outbox (published or not), by invoice id."""
    payloads = rows(engine, "SELECT payload FROM lbj_outbox WHERE actor_name = 'payment_receipt'")
    return Counter(int(json.loads(row["payload"])["invoice_id"]) for row in payloads)


def dead_letters(engine: Engine) -> list[dict[str, Any]]:
    return rows(engine, "SELECT * FROM lbj_dead_letters")


def queue_depth(amqp_url: str, queue: str) -> int:
    """Ready messages of `queue` (0 when it does not exist)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        declared = connection.channel().queue_declare(queue, passive=True)
        return int(declared.method.message_count)
    except ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()


def drop_queues(amqp_url: str, *queues: str) -> None:
    """Delete each queue with Dramatiq's `.DQ` and `.XQ` of it."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)
    finally:
        connection.close()

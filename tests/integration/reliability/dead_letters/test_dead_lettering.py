"""Every way a message dies on RabbitMQ gives one record in MariaDB and one Sentry event.

Real RabbitMQ (the session's vhost, a queue per test), real MariaDB, the real sentry-sdk sending
to a local capture server, and Dramatiq worker threads in this process.
"""

from __future__ import annotations

import json
import time
from typing import Any

import dramatiq
import pytest

from lineblocs_shared.reliability.failures.taxonomy import FatalError, TransientError
from tests.integration.reliability.dead_letters.conftest import (
    FAST_RETRIES,
    RabbitHarness,
    queue_depth,
    wait_until,
)

pytestmark = pytest.mark.integration


def test_fatal_error_one_record_one_event_no_retry(rabbit: RabbitHarness) -> None:
    def charge_invoice(attempt: int) -> None:
        raise FatalError(f"card 4242424242424242 declined for ops@example.com (try {attempt})")

    sent = rabbit.actor(charge_invoice, max_retries=5, **FAST_RETRIES).send(
        invoice_id=42, card={"number": "4242424242424242"}
    )
    rabbit.start_worker()
    [letter] = rabbit.wait_for_dead_letters(1)
    rabbit.settle()

    assert rabbit.calls == [1]
    assert (letter.message_id, letter.reason, letter.attempts) == (sent.message_id, "fatal", 1)
    assert (letter.queue_name, letter.actor_name) == (rabbit.queue, "charge_invoice")
    assert letter.exception_class == "lineblocs_shared.reliability.failures.taxonomy.FatalError"
    assert "4242424242424242" not in (letter.exception_text or "")
    assert json.loads(letter.kwargs) == {"invoice_id": 42, "card": "[REDACTED]"}
    assert queue_depth(rabbit.settings.queue_url, f"{rabbit.queue}.XQ") == 1

    [event] = rabbit.sentry_events()
    assert event["tags"]["actor"] == "charge_invoice"
    assert event["tags"]["reason"] == "fatal"
    assert event["tags"]["message_id"] == sent.message_id
    assert event["tags"]["dead_letter_id"] == str(letter.id)
    assert event["exception"]["values"][-1]["type"] == "FatalError"
    assert "4242424242424242" not in json.dumps(event)
    assert "ops@example.com" not in json.dumps(event)


def test_transient_error_is_retried_then_succeeds(rabbit: RabbitHarness) -> None:
    def send_receipt(attempt: int) -> None:
        if attempt < 3:
            raise TransientError("SMTP server busy")

    rabbit.actor(send_receipt, max_retries=5, **FAST_RETRIES).send()
    rabbit.start_worker()
    wait_until(lambda: len(rabbit.calls) == 3, what="third attempt")
    rabbit.settle()

    assert rabbit.calls == [1, 2, 3]
    assert rabbit.dead_letters() == []
    assert rabbit.sentry_events() == []
    assert queue_depth(rabbit.settings.queue_url, f"{rabbit.queue}.XQ") == 0


def test_exhausted_retries_one_record_one_event(rabbit: RabbitHarness) -> None:
    def call_gateway(attempt: int) -> None:
        raise TransientError(f"gateway timeout on attempt {attempt}")

    rabbit.actor(call_gateway, max_retries=2, **FAST_RETRIES).send()
    rabbit.start_worker()
    [letter] = rabbit.wait_for_dead_letters(1)
    rabbit.settle()

    assert rabbit.calls == [1, 2, 3]
    assert (letter.reason, letter.attempts) == ("retries_exhausted", 3)
    assert letter.exception_text == "gateway timeout on attempt 3"
    assert "TransientError" in (letter.traceback or "")
    [event] = rabbit.sentry_events()
    assert event["tags"]["reason"] == "retries_exhausted"
    assert event["extra"]["attempts"] == 3
    assert queue_depth(rabbit.settings.queue_url, f"{rabbit.queue}.XQ") == 1


def test_age_limit_one_record(rabbit: RabbitHarness) -> None:
    def reminder(attempt: int) -> None:
        pass

    rabbit.actor(reminder, max_age=50).send()
    time.sleep(0.2)  # the message waits in the queue past its max_age
    rabbit.start_worker()
    [letter] = rabbit.wait_for_dead_letters(1)

    assert rabbit.calls == []
    assert (letter.reason, letter.attempts, letter.exception_class) == ("age_limit", 0, None)
    [event] = rabbit.sentry_events()
    assert event["tags"]["reason"] == "age_limit"


def test_unknown_actor_one_record(rabbit: RabbitHarness) -> None:
    rabbit.broker.declare_queue(rabbit.queue)
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=rabbit.queue, actor_name="retired_actor", args=(), kwargs={"x": 1}, options={}
    )
    rabbit.broker.enqueue(message)
    rabbit.start_worker()
    [letter] = rabbit.wait_for_dead_letters(1)

    assert (letter.actor_name, letter.reason) == ("retired_actor", "unknown_actor")
    assert letter.message_id == message.message_id
    assert letter.exception_class == "dramatiq.errors.ActorNotFound"
    [event] = rabbit.sentry_events()
    assert event["tags"]["reason"] == "unknown_actor"
    assert queue_depth(rabbit.settings.queue_url, f"{rabbit.queue}.XQ") == 1

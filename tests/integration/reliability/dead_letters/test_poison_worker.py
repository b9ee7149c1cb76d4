"""Poison messages against real worker processes on the real RabbitMQ.

What an attacker or a buggy publisher can put on the `billing` queue, published raw with pika:
a 5 MB message, envelopes that used to kill worker threads, bodies Dramatiq cannot decode, one
poison message six times at once, payloads that are wrong for good, card numbers inside
strings; a few of them on the `maintenance` queue too. The workers are `lineblocs-jobs worker
<service>` with Sentry sending to a local capture server. Afterwards: one dead-letter record and
one Sentry event per poison message, the oversized one kept by its size only, the worker alive
(`/livez`), a good message still handled, no card number in the worker's log, the records, the
events or `dlq show`, and SIGTERM still stops the worker.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from lineblocs_shared.contracts import BILL_SUBSCRIPTION, PURGE_LOGS, BillSubscription, PurgeLogs
from lineblocs_shared.db.uow import LedgerUnit
from lineblocs_shared.models.jobs import DeadLetter, JobRun
from tests.support.cli import CLI
from tests.support.live_worker import RunningWorker, http_status, publish, running_worker
from tests.support.sentry_capture import SentryCapture

pytestmark = pytest.mark.integration

CARD = "4242424242424242"
CARD_WRITTEN = (CARD, "4242 4242 4242 4242", "4242-4242-4242-4242")
NOV, DEC = "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"


def envelope(**changes: Any) -> dict[str, Any]:
    message = BILL_SUBSCRIPTION.message(
        BillSubscription(subscription_id=999_999, period_start=NOV, period_end=DEC)  # type: ignore[arg-type]
    )
    return {**message.asdict(), "args": [], **changes}


def body(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


def without(fields: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key != name}


def kwargs(**changes: Any) -> dict[str, Any]:
    return {"subscription_id": 999_999, "period_start": NOV, "period_end": DEC, **changes}


# name -> (raw body, the reason its record must have)
POISON: dict[str, tuple[bytes, str]] = {
    "5 MB": (body(envelope(kwargs=kwargs(note="x" * 5_000_000))), "oversized"),
    "options a list": (body(envelope(options=["x", CARD])), "malformed"),
    "queue of another service": (body(envelope(queue_name="maintenance")), "malformed"),
    "not JSON": (f"card {CARD} <xml/>".encode(), "malformed"),
    "JSON not an object": (json.dumps(["4242 4242 4242 4242"]).encode(), "malformed"),
    "no actor_name": (
        body({k: v for k, v in envelope().items() if k != "actor_name"}),
        "malformed",
    ),
    "not UTF-8": (b"\xff\xfe" + CARD.encode(), "malformed"),
    "timestamp a string": (body(envelope(message_timestamp="soon")), "malformed"),
    "message id too long": (body(envelope(message_id="m" * 300)), "malformed"),
    "actor name too long": (body(envelope(actor_name="a" * 300)), "malformed"),
    "kwargs a list": (body(envelope(kwargs=[1, 2])), "malformed"),
    "period ends before it starts": (body(envelope(kwargs=kwargs(period_end=NOV))), "fatal"),
    "an id as text": (body(envelope(kwargs=kwargs(subscription_id="42"))), "fatal"),
    "positional arguments": (body(envelope(args=[42])), "fatal"),
    "a card number in a field": (
        body(envelope(kwargs=kwargs(period_start=f"card {CARD_WRITTEN[1]}"))),
        "fatal",
    ),
}
SAME_POISON = body(envelope(options=[CARD_WRITTEN[2]]))  # published six times at once


def dead_letters(engine: Engine) -> list[DeadLetter]:
    with LedgerUnit(engine) as uow:
        return list(uow.session.execute(select(DeadLetter)).scalars())


def test_a_billing_worker_survives_every_poison_message_and_records_each_once(
    jobs_engine: Engine, fresh_amqp_url: str, sentry: SentryCapture, tmp_path: Path
) -> None:
    good = envelope(message_id=str(uuid.uuid4()))
    expected = len(POISON) + 1  # the six copies of one poison message are one dead letter
    with running_worker("billing", jobs_engine, fresh_amqp_url, sentry, tmp_path) as worker:
        for raw, _reason in POISON.values():
            publish(fresh_amqp_url, "billing", raw)
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda _: publish(fresh_amqp_url, "billing", SAME_POISON), range(6)))
        publish(fresh_amqp_url, "billing", body(good))
        worker.wait_until("every dead letter", lambda: len(dead_letters(jobs_engine)) >= expected)
        worker.wait_until("the good message", lambda: good["message_id"] in worker.output())
        events = sentry.wait_for_events(expected, timeout_s=30)
        time.sleep(2)  # a duplicate alert, if any, would arrive by now
        status, liveness = http_status(worker.livez)

    assert (status, liveness["status"]) == (200, "alive"), liveness
    letters = dead_letters(jobs_engine)
    by_reason = sorted(letter.reason for letter in letters)
    assert by_reason == sorted([reason for _raw, reason in POISON.values()] + ["malformed"])
    assert len(sentry.events) == len(letters)  # one alert per dead letter, the six copies too
    [oversized] = [letter for letter in letters if letter.reason == "oversized"]
    assert (oversized.raw_body, oversized.body_length) == (None, len(POISON["5 MB"][0]))
    assert all(letter.attempts <= 1 for letter in letters)  # nothing retried for hours
    assert_no_card_number(worker, letters, events)


def test_a_maintenance_worker_survives_poison_messages_too(
    jobs_engine: Engine, fresh_amqp_url: str, sentry: SentryCapture, tmp_path: Path
) -> None:
    def purge(**changes: Any) -> dict[str, Any]:
        return {**PURGE_LOGS.message(PurgeLogs(retention_days=30)).asdict(), **changes}

    poison = [
        body(purge(options=[CARD])),
        body(purge(queue_name="billing")),
        body(purge(kwargs={"retention_days": "30"})),  # text where a number belongs
        f"<{CARD}>".encode(),
    ]
    good = purge()
    with running_worker("maintenance", jobs_engine, fresh_amqp_url, sentry, tmp_path) as worker:
        for raw in poison:
            publish(fresh_amqp_url, "maintenance", raw)
        publish(fresh_amqp_url, "maintenance", body(good))
        recorded = lambda: len(dead_letters(jobs_engine)) >= len(poison)  # noqa: E731
        worker.wait_until("every dead letter", recorded)
        worker.wait_until("the good purge", lambda: _run_of(jobs_engine, good["message_id"]))
        events = sentry.wait_for_events(len(poison), timeout_s=30)
        status, _ = http_status(worker.livez)

    assert status == 200
    letters = dead_letters(jobs_engine)
    assert sorted(letter.reason for letter in letters) == [
        "fatal",
        "malformed",
        "malformed",
        "malformed",
    ]
    assert len(sentry.events) == len(letters)
    assert_no_card_number(worker, letters, events)


def assert_no_card_number(
    worker: RunningWorker, letters: list[DeadLetter], events: list[dict[str, Any]]
) -> None:
    shown = [_dlq_show(worker.env, letter.id) for letter in letters]
    places = [("log", worker.output()), ("events", json.dumps(events)), ("dlq show", str(shown))]
    for letter in letters:
        stored = f"{letter.args}{letter.kwargs}{letter.options}{letter.exception_text}"
        stored += (letter.raw_body or b"").decode("latin-1") + (letter.traceback or "")
        places.append((f"record of {letter.message_id}", stored))
    for where, text in places:
        assert not any(card in text for card in CARD_WRITTEN), f"a card number in the {where}"
    # Refusals and dead letters are expected work: nothing failed that nobody planned for.
    assert '"level": "CRITICAL"' not in worker.output()


def _run_of(engine: Engine, message_id: str) -> bool:
    with LedgerUnit(engine) as uow:
        run = uow.session.execute(select(JobRun).where(JobRun.message_id == message_id)).first()
    return run is not None and run[0].state == "succeeded"


def _dlq_show(env: dict[str, str], dead_letter_id: int | None) -> str:
    shown = subprocess.run(
        [CLI, "dlq", "show", str(dead_letter_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shown.stdout

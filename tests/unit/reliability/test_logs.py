"""Structured logs: JSON lines an aggregator can parse, carrying the message and run context."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.observability.logs import (
    ContextFilter,
    JsonFormatter,
    LogContext,
    TextFormatter,
    bind_run_id,
    configure_logging,
    log_context,
)
from lineblocs_shared.settings import load_settings


def make_record(message: str = "charged %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("lineblocs.billing", logging.INFO, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def filtered(record: logging.LogRecord) -> logging.LogRecord:
    assert ContextFilter().filter(record) is True  # never drops a record
    return record


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_formatter_writes_one_parseable_object_per_line() -> None:
    line = JsonFormatter().format(make_record("charged %s", "inv-7\nsecond line"))

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "lineblocs.billing"
    assert entry["message"] == "charged inv-7\nsecond line"
    assert entry["ts"].endswith("+00:00")


def test_json_formatter_keeps_extras_and_survives_values_json_cannot_hold() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque-value"

    entry = json.loads(JsonFormatter().format(make_record(invoice_id=7, thing=Opaque())))

    assert entry["invoice_id"] == 7
    assert entry["thing"] == "opaque-value"


def test_json_formatter_includes_the_traceback() -> None:
    try:
        raise ValueError("card declined")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError: card declined" in entry["exception"]
    assert "Traceback" in entry["exception"]


def test_context_filter_adds_bound_fields_only_inside_the_block() -> None:
    with log_context(message_id="m-1", actor="charge", queue="billing"), bind_run_id(42):
        inside = filtered(make_record())
    outside = filtered(make_record())

    assert (inside.message_id, inside.actor, inside.queue, inside.run_id) == (  # type: ignore[attr-defined]
        "m-1",
        "charge",
        "billing",
        "42",
    )
    assert not hasattr(outside, "message_id")
    assert not hasattr(outside, "run_id")


def test_inner_binding_ends_with_its_block_and_explicit_extras_win() -> None:
    with log_context(actor="charge"):
        with bind_run_id(1):
            pass
        record = filtered(make_record(actor="explicit"))

    assert record.actor == "explicit"  # type: ignore[attr-defined]
    assert not hasattr(record, "run_id")


def test_text_formatter_appends_the_context() -> None:
    with bind_run_id(9):
        line = TextFormatter().format(filtered(make_record()))
    plain = TextFormatter().format(filtered(make_record()))

    assert line.endswith("INFO lineblocs.billing charged %s [run_id=9]")
    assert plain.endswith("INFO lineblocs.billing charged %s")


@pytest.mark.parametrize(
    ("overrides", "json_logs"),
    [
        ({}, False),
        ({"log_format": "JSON"}, True),
        ({"log_format": ""}, False),
        (
            {
                "environment": "production",
                "database_url": "mysql+pymysql://jobs:s3cret@db/lb",
                "queue_url": "amqp://jobs:s3cret@mq/lb",
            },
            True,
        ),
    ],
)
def test_log_format_defaults_to_json_only_when_deployed(
    overrides: dict[str, str], json_logs: bool
) -> None:
    assert load_settings(**overrides).json_logs is json_logs


def test_configure_logging_writes_json_lines_with_the_context(
    restore_root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings(log_format="json", log_level="INFO"))

    with log_context(message_id="m-9", actor="purge_logs", queue="maintenance"):
        logging.getLogger("lineblocs.test").info("purged %d rows", 3)
    logging.getLogger("pika").info("connection chatter")

    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "purged 3 rows"
    assert entry["message_id"] == "m-9"
    assert entry["actor"] == "purge_logs"
    assert entry["queue"] == "maintenance"


def test_worker_threads_log_with_the_message_they_process() -> None:
    seen: list[tuple[str, str | None, str | None, str | None]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message_id, actor, queue = (
                getattr(record, name, None) for name in ("message_id", "actor", "queue")
            )
            seen.append((record.getMessage(), message_id, actor, queue))

    handler = Collect()
    handler.addFilter(ContextFilter())
    test_logger = logging.getLogger("lineblocs.test.worker")
    test_logger.addHandler(handler)
    test_logger.setLevel(logging.INFO)

    class LaterMiddleware(Middleware):
        """Logs from hooks that run after the actor, and once the thread stops."""

        def after_process_message(self, broker: Any, message: Any, **_: Any) -> None:
            test_logger.info("after")

        def before_worker_thread_shutdown(self, broker: Any, thread: Any) -> None:
            test_logger.info("thread stopping")

    broker = StubBroker(middleware=[LogContext(), LaterMiddleware()])

    @dramatiq.actor(broker=broker, queue_name="billing", actor_name="charge")
    def charge(invoice: int) -> None:
        test_logger.info("charging %d", invoice)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    start_worker(worker)
    try:
        first, second = charge.send(1), charge.send(2)
        broker.join("billing")
        worker.join()
    finally:
        worker.stop()
        test_logger.removeHandler(handler)

    assert seen == [
        ("charging 1", first.message_id, "charge", "billing"),
        ("after", first.message_id, "charge", "billing"),
        ("charging 2", second.message_id, "charge", "billing"),
        ("after", second.message_id, "charge", "billing"),
        ("thread stopping", None, None, None),
    ]


def test_an_expected_contention_is_one_info_line_and_a_real_error_keeps_its_traceback(
    restore_root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from lineblocs_shared.reliability.failures.taxonomy import ExpectedContention

    class PeriodTaken(ExpectedContention):
        pass

    configure_logging(load_settings(log_format="text", log_level="INFO"))
    broker = StubBroker()  # Dramatiq's default middleware: its worker logs what actors raise
    tries: list[int] = []

    @dramatiq.actor(broker=broker, queue_name="billing", min_backoff=10, max_backoff=20)
    def settle(period: int) -> None:
        tries.append(period)
        if len(tries) == 1:
            raise PeriodTaken(f"billing period {period} is being settled by another delivery")

    @dramatiq.actor(broker=broker, queue_name="billing", max_retries=0)
    def broken() -> None:
        raise RuntimeError("a bug")

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    start_worker(worker)
    try:
        settle.send(7)
        broken.send()
        broker.join("billing", fail_fast=False)
        worker.join()
    finally:
        worker.stop()

    err = capsys.readouterr().err
    [contention] = [line for line in err.splitlines() if "another delivery" in line]
    assert " INFO dramatiq.worker" in contention
    assert "Expected contention, retried: billing period 7" in contention
    assert "PeriodTaken" not in err.replace(contention, "")  # no traceback of it anywhere
    assert tries == [7, 7]
    assert " ERROR " in err
    assert "Traceback" in err
    assert "RuntimeError: a bug" in err

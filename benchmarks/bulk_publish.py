"""Confirmed bulk publishing: our BulkPublisher against raw pika and Dramatiq's own enqueue.

All three publish the same small Dramatiq messages, persistent, to a Dramatiq-declared queue of
the same RabbitMQ, and count a message only once RabbitMQ confirmed it:

- raw pika: the least a windowed-confirm publisher can do (bodies encoded before the clock
  starts, a counter instead of bookkeeping). The reference for the ratio.
- BulkPublisher: ours, encoding each message and tracking each delivery tag.
- Dramatiq `broker.enqueue` with `confirm_delivery=True`: one confirm round trip per message.

Runs alternate between raw and ours so both see the same load on the machine; the table shows
medians.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dramatiq
import pika
import pika.spec
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from benchmarks.support import BenchQueues, Measurement, print_table, verdict
from lineblocs_shared.queue.bulk import DEFAULT_WINDOW, BulkPublisher

GOAL_RATIO = 0.5
GOAL_RATE = 10_000


@dataclass(frozen=True)
class BulkPublishConfig:
    messages: int = 50_000
    dramatiq_messages: int = 5_000
    window: int = DEFAULT_WINDOW
    repeat: int = 3


def _messages(queue: str, count: int) -> list[dramatiq.Message[Any]]:
    return [
        dramatiq.Message(
            queue_name=queue,
            actor_name="bench_noop",
            args=(n,),
            kwargs={"account_id": n % 1000},
            options={},
        )
        for n in range(count)
    ]


class RawWindowedPublisher:
    """A minimal SelectConnection loop: keep `window` publishes unconfirmed, count the acks."""

    def __init__(self, amqp_url: str, queue: str, bodies: list[bytes], window: int) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._queue = queue
        self._bodies = bodies
        self._window = window
        self._properties = pika.BasicProperties(delivery_mode=2)
        self._sent = 0
        self._settled = 0
        self._acked = 0
        self._channel: Any = None
        self._connection: Any = None

    def run(self) -> int:
        self._connection = pika.SelectConnection(
            self._parameters,
            on_open_callback=lambda c: c.channel(on_open_callback=self._on_channel),
            on_close_callback=lambda c, _reason: c.ioloop.stop(),
        )
        self._connection.ioloop.start()
        self._connection.ioloop.close()
        return self._acked

    def _on_channel(self, channel: Any) -> None:
        self._channel = channel
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._fill())

    def _fill(self) -> None:
        total = len(self._bodies)
        while self._sent - self._settled < self._window and self._sent < total:
            self._channel.basic_publish("", self._queue, self._bodies[self._sent], self._properties)
            self._sent += 1

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        answered = method.delivery_tag - self._settled if method.multiple else 1
        self._settled += answered
        if isinstance(method, pika.spec.Basic.Ack):
            self._acked += answered
        if self._settled >= len(self._bodies):
            self._connection.close()
        else:
            self._fill()


def _declared_queue(queues: BenchQueues, declarer: RabbitmqBroker, label: str) -> str:
    queue = queues.new(label)
    declarer.declare_queue(queue, ensure=True)
    return queue


def _time_raw(queues: BenchQueues, declarer: RabbitmqBroker, config: BulkPublishConfig) -> float:
    queue = _declared_queue(queues, declarer, "raw")
    bodies = [m.encode() for m in _messages(queue, config.messages)]
    started = time.perf_counter()
    acked = RawWindowedPublisher(queues.amqp_url, queue, bodies, config.window).run()
    elapsed = time.perf_counter() - started
    _check(queues, queue, acked, config.messages)
    return elapsed


def _time_ours(queues: BenchQueues, declarer: RabbitmqBroker, config: BulkPublishConfig) -> float:
    queue = _declared_queue(queues, declarer, "bulk")
    messages = _messages(queue, config.messages)
    publisher = BulkPublisher(queues.amqp_url, window=config.window, declarer=declarer)
    started = time.perf_counter()
    result = publisher.publish(messages)
    elapsed = time.perf_counter() - started
    _check(queues, queue, result.published, config.messages)
    return elapsed


def _time_dramatiq(queues: BenchQueues, config: BulkPublishConfig) -> float:
    broker = RabbitmqBroker(url=queues.amqp_url, confirm_delivery=True, middleware=[])
    try:
        queue = _declared_queue(queues, broker, "enqueue")
        messages = _messages(queue, config.dramatiq_messages)
        started = time.perf_counter()
        for message in messages:
            broker.enqueue(message)
        elapsed = time.perf_counter() - started
    finally:
        broker.close()
    _check(queues, queue, config.dramatiq_messages, config.dramatiq_messages)
    return elapsed


def _check(queues: BenchQueues, queue: str, confirmed: int, expected: int) -> None:
    """A run counts only if every message was confirmed and is in the queue; then drop it."""
    depth = queues.depth(queue)
    if confirmed != expected or depth < expected:
        raise RuntimeError(f"{queue}: {confirmed} confirmed, {depth} queued, {expected} sent")
    queues.delete(queue)


def run(amqp_url: str, config: BulkPublishConfig) -> bool:
    """Measure, print the table; True when both goals are met."""
    queues = BenchQueues(amqp_url)
    declarer = RabbitmqBroker(url=amqp_url, middleware=[])
    raw = Measurement("raw pika, windowed confirms", config.messages)
    ours = Measurement("BulkPublisher (ours)", config.messages)
    try:
        for _ in range(config.repeat):
            raw.seconds.append(_time_raw(queues, declarer, config))
            ours.seconds.append(_time_ours(queues, declarer, config))
        enqueue = Measurement(
            "Dramatiq enqueue, confirm_delivery=True",
            config.dramatiq_messages,
            [_time_dramatiq(queues, config)],
        )
    finally:
        declarer.close()
        queues.delete_all()

    reference = raw.rate
    print_table(
        f"bulk_publish — confirmed publishes, window {config.window}, "
        f"best of {config.repeat} runs (Dramatiq: 1 run)",
        ["publisher", "messages", "msg/s", "x raw", "median msg/s", "each run"],
        [
            (
                m.name,
                f"{m.messages:,}",
                f"{m.rate:,.0f}",
                f"{m.rate / reference:.2f}",
                f"{m.median_rate:,.0f}",
                m.runs,
            )
            for m in (raw, ours, enqueue)
        ],
    )
    median_ratio = ours.median_rate / raw.median_rate
    ratio_met = ours.rate >= GOAL_RATIO * reference
    rate_met = ours.rate >= GOAL_RATE
    print_table(
        "bulk_publish — goals",
        ["goal", "measured", "verdict"],
        [
            (
                f"ours ≥ {GOAL_RATIO}x raw",
                f"{ours.rate / reference:.2f}x (medians: {median_ratio:.2f}x)",
                verdict(ratio_met),
            ),
            (f"ours ≥ {GOAL_RATE:,} msg/s", f"{ours.rate:,.0f}", verdict(rate_met)),
        ],
    )
    return ratio_met and rate_met

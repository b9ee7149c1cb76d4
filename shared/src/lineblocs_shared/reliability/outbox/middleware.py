"""The outbox relay as a Dramatiq middleware: a daemon thread in each worker process.

Every worker process relays, so the outbox needs no container of its own; on MariaDB the
relays skip each other's rows (FOR UPDATE SKIP LOCKED), so their number does not matter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import Middleware
from sqlalchemy import Engine

from lineblocs_shared.queue.bulk import BulkPublisher
from lineblocs_shared.reliability.outbox.publishers import (
    BrokerPublisher,
    WindowedPublisher,
    confirmed_publishing_broker,
)
from lineblocs_shared.reliability.outbox.relay import (
    DEFAULT_BATCH_SIZE,
    OutboxPublisher,
    OutboxRelay,
    run_relay,
)
from lineblocs_shared.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 1.0
STOP_TIMEOUT_S = 30.0

# Opens the relay of one worker process, given that process's broker; closing frees it.
RelayOpener = Callable[[dramatiq.Broker], AbstractContextManager[OutboxRelay]]


class OutboxRelayMiddleware(Middleware):
    def __init__(
        self,
        open_relay: RelayOpener,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._open_relay = open_relay
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._resources = ExitStack()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Here and not at construction: resources must be made in the worker process itself.
        relay = self._resources.enter_context(self._open_relay(broker))
        self._stop.clear()
        self._thread = threading.Thread(
            target=run_relay,
            args=(relay,),
            kwargs={
                "interval_s": self._interval_s,
                "stop_event": self._stop,
                "batch_size": self._batch_size,
            },
            name="outbox-relay",
            daemon=True,
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            logger.warning("outbox relay still publishing after %.0fs; leaving it", STOP_TIMEOUT_S)
        self._thread = None
        self._resources.close()


def relay_for_worker(settings: Settings, *, engine: Engine) -> RelayOpener:
    """The relay of a worker: the process's engine, and RabbitMQ (or the worker's in-process
    broker)."""

    @contextmanager
    def open_relay(broker: dramatiq.Broker) -> Iterator[OutboxRelay]:
        publishing = (
            broker
            if settings.uses_embedded_broker
            else confirmed_publishing_broker(settings.queue_url)
        )
        try:
            yield OutboxRelay(engine, relay_publisher(publishing, settings))
        finally:
            if publishing is not broker:
                publishing.close()

    return open_relay


def relay_publisher(broker: dramatiq.Broker, settings: Settings) -> OutboxPublisher:
    """Windowed confirms on RabbitMQ (one round trip per window); enqueue in embedded mode."""
    if settings.uses_embedded_broker or not isinstance(broker, RabbitmqBroker):
        return BrokerPublisher(broker)
    return WindowedPublisher(BulkPublisher(settings.queue_url, declarer=broker))


def outbox_relay_middleware(settings: Settings, *, engine: Engine) -> OutboxRelayMiddleware:
    return OutboxRelayMiddleware(relay_for_worker(settings, engine=engine))

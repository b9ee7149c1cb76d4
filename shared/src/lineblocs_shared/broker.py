"""The one place a Dramatiq broker is built.

Every process (worker, scheduler, CLI publisher, demo) builds its broker here, with the same
middleware list, and sets it as the global broker *before* any actor module is imported
(`@dramatiq.actor` binds to the global broker at import time).
"""

from __future__ import annotations

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from periodiq import PeriodiqMiddleware

from lineblocs_shared.errors import BrokerUnavailable
from lineblocs_shared.settings import Settings

# Dramatiq's default is 20 retries over ~30 days: far too long for billing. Actors size their own
# limits; this is the ceiling for an actor that says nothing.
DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 1_000
DEFAULT_MAX_BACKOFF_MS = 5 * 60_000
DEFAULT_TIME_LIMIT_MS = 10 * 60_000


def project_middleware(settings: Settings) -> list[Middleware]:
    """The middleware every broker of ours runs, in order."""
    return [
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        Retries(
            max_retries=DEFAULT_MAX_RETRIES,
            min_backoff=DEFAULT_MIN_BACKOFF_MS,
            max_backoff=DEFAULT_MAX_BACKOFF_MS,
        ),
        PeriodiqMiddleware(skip_delay=settings.periodic_skip_delay_s),
    ]


def build_broker(settings: Settings) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms, or the in-process broker for the embedded mode."""
    middleware = project_middleware(settings)
    if settings.uses_embedded_broker:
        return StubBroker(middleware=middleware)
    # Confirms on: an enqueue returns only once RabbitMQ has taken the message.
    return RabbitmqBroker(url=settings.queue_url, confirm_delivery=True, middleware=middleware)


def install_broker(settings: Settings) -> dramatiq.Broker:
    """Build the broker and make it the global one; call before importing actors."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker


def ping_broker(settings: Settings) -> None:
    """Prove RabbitMQ accepts a connection; one clear `BrokerUnavailable` line if not."""
    if settings.uses_embedded_broker:
        return
    params = pika.URLParameters(settings.queue_url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.blocked_connection_timeout = 5
    try:
        pika.BlockingConnection(params).close()
    except pika.exceptions.AMQPError as exc:
        where = f"{params.host}:{params.port}{params.virtual_host and '/' + params.virtual_host}"
        raise BrokerUnavailable(f"RabbitMQ unreachable at {where}: {exc!r}") from None

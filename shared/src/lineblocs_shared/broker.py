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
    ShutdownNotifications,
    TimeLimit,
)

from lineblocs_shared.db import make_engine
from lineblocs_shared.errors import BrokerUnavailable
from lineblocs_shared.reliability.alerts import Alerter, SentryAlerter
from lineblocs_shared.reliability.dead_letter_recorder import DeadLetterRecorder
from lineblocs_shared.reliability.dead_letter_store import DeadLetterStore, SqlDeadLetterStore
from lineblocs_shared.reliability.health_server import HealthEndpoint
from lineblocs_shared.reliability.logs import LogContext
from lineblocs_shared.reliability.metrics import PrometheusMetrics
from lineblocs_shared.reliability.outbox_worker import outbox_relay_middleware
from lineblocs_shared.reliability.periodiq_skip import FirstDeliveryPeriodiq
from lineblocs_shared.reliability.retries import ClassifiedRetries, RetryPolicy
from lineblocs_shared.reliability.run_ledger import RunLedger, SqlRunLedger
from lineblocs_shared.settings import Settings

# Dramatiq's default is 20 retries over ~30 days: far too long for billing. Actors size their own
# limits (max_retries, min_backoff, max_backoff, retry_for_ms); this is the policy of an actor
# that says nothing.
DEFAULT_RETRY_POLICY = RetryPolicy(
    max_retries=5, min_backoff=1_000, max_backoff=5 * 60_000, retry_for_ms=30 * 60_000
)
DEFAULT_TIME_LIMIT_MS = 10 * 60_000
# The dead-letter store writes rarely: a small pool of its own is enough.
DEAD_LETTER_POOL_SIZE = 2


def project_middleware(
    settings: Settings,
    *,
    dead_letters: DeadLetterStore | None = None,
    alerter: Alerter | None = None,
    ledger: RunLedger | None = None,
) -> list[Middleware]:
    """The middleware every broker of ours runs, in order.

    Dead letters go to `lbj_dead_letters` of DATABASE_URL and alert through Sentry unless other
    collaborators are given (tests give fakes).
    """
    if dead_letters is None:
        engine = make_engine(settings.database_url, pool_size=DEAD_LETTER_POOL_SIZE)
        dead_letters = SqlDeadLetterStore(engine)
        ledger = ledger or SqlRunLedger(engine)
    return [
        # First: its before-hook runs first and its after-hook last, so every log line of a
        # message carries the message's context.
        LogContext(),
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        # Retry transient failures, fail fatal ones; then record + alert each failed message.
        ClassifiedRetries(default=DEFAULT_RETRY_POLICY),
        DeadLetterRecorder(store=dead_letters, alerter=alerter or SentryAlerter(), ledger=ledger),
        FirstDeliveryPeriodiq(skip_delay=settings.periodic_skip_delay_s),
        PrometheusMetrics(settings),
        HealthEndpoint(settings),
        # Each worker process relays the outbox: no extra container, and a crash loses nothing.
        outbox_relay_middleware(settings),
    ]


def build_broker(
    settings: Settings,
    *,
    dead_letters: DeadLetterStore | None = None,
    alerter: Alerter | None = None,
) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms, or the in-process broker for the embedded mode."""
    middleware = project_middleware(settings, dead_letters=dead_letters, alerter=alerter)
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

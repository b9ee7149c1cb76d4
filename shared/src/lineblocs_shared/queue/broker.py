"""The one place a Dramatiq broker is built.

Every process (worker, scheduler, CLI publisher, demo) builds its broker here, with the same
middleware list, and sets it as the global broker *before* any actor module is imported
(`@dramatiq.actor` binds to the global broker at import time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dramatiq
import pika
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Middleware,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy import Engine

from lineblocs_shared.db import make_engine
from lineblocs_shared.errors import BrokerUnavailable
from lineblocs_shared.queue.guarded import GuardedRabbitmqBroker, GuardedStubBroker
from lineblocs_shared.queue.prefetch import QueuePrefetch
from lineblocs_shared.queue.thread_guard import ThreadGuard
from lineblocs_shared.reliability.failures.alerts import Alerter, SentryAlerter
from lineblocs_shared.reliability.failures.recorder import DeadLetterRecorder
from lineblocs_shared.reliability.failures.retries import ClassifiedRetries, RetryPolicy
from lineblocs_shared.reliability.failures.store import DeadLetterStore, SqlDeadLetterStore
from lineblocs_shared.reliability.observability.health_server import HealthEndpoint
from lineblocs_shared.reliability.observability.logs import LogContext
from lineblocs_shared.reliability.observability.metrics import PrometheusMetrics
from lineblocs_shared.reliability.outbox.middleware import outbox_relay_middleware
from lineblocs_shared.reliability.periodic.ledger import SqlRunLedger
from lineblocs_shared.reliability.periodic.periodiq_skip import FirstDeliveryPeriodiq
from lineblocs_shared.settings import Settings

# Dramatiq's default is 20 retries over ~30 days: far too long for billing. Actors size their own
# limits (max_retries, min_backoff, max_backoff, retry_for_ms); this is the policy of an actor
# that says nothing.
DEFAULT_RETRY_POLICY = RetryPolicy(
    max_retries=5, min_backoff=1_000, max_backoff=5 * 60_000, retry_for_ms=30 * 60_000
)
DEFAULT_TIME_LIMIT_MS = 10 * 60_000
# A broker that has to build its own engine (tests, one-off publishers) keeps it small.
OWN_ENGINE_POOL_SIZE = 2


class DisposeEngine(Middleware):
    """Closes the pooled connections of an engine the broker made itself, once its worker stops
    (the engine stays usable: a restarted worker opens new ones)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._engine.dispose()


def project_middleware(
    settings: Settings,
    *,
    engine: Engine | None = None,
    dead_letters: DeadLetterStore | None = None,
    alerter: Alerter | None = None,
) -> list[Middleware]:
    """The middleware every broker of ours runs, in order.

    Dead letters, the job-run ledger, readiness and the outbox relay use `engine` (the process's
    one engine), or one engine made here for them all and disposed when the worker stops. Dead
    letters alert through Sentry unless other collaborators are given (tests give fakes).
    """
    if engine is not None:
        return _middleware(settings, engine, dead_letters=dead_letters, alerter=alerter)
    own = make_engine(settings.database_url, pool_size=OWN_ENGINE_POOL_SIZE)
    middleware = _middleware(settings, own, dead_letters=dead_letters, alerter=alerter)
    return [*middleware, DisposeEngine(own)]


def _middleware(
    settings: Settings,
    engine: Engine,
    *,
    dead_letters: DeadLetterStore | None,
    alerter: Alerter | None,
) -> list[Middleware]:
    return [
        # First: its before-hook runs first and its after-hook last, so every log line of a
        # message carries the message's context.
        LogContext(),
        ThreadGuard(),
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        # No Callbacks, no Pipelines: nothing of ours chains messages, and a message that asks
        # for it (on_success, pipe_target…) is refused unread (`queue/envelope.py`).
        CurrentMessage(),
        # Retry transient failures, fail fatal ones; then record + alert each failed message.
        ClassifiedRetries(default=DEFAULT_RETRY_POLICY),
        # A store given by a test comes without the SQL ledger: its runs are the test's to mark.
        DeadLetterRecorder(
            store=dead_letters or SqlDeadLetterStore(engine),
            alerter=alerter or SentryAlerter(),
            ledger=SqlRunLedger(engine) if dead_letters is None else None,
        ),
        FirstDeliveryPeriodiq(skip_delay=settings.periodic_skip_delay_s),
        # However the worker was started: WORKER_PREFETCH, or one message per thread.
        QueuePrefetch(settings.worker_prefetch),
        PrometheusMetrics(settings),
        HealthEndpoint(settings, engine=engine),
        # Each worker process relays the outbox: no extra container, and a crash loses nothing.
        outbox_relay_middleware(settings, engine=engine),
    ]


def build_broker(
    settings: Settings,
    *,
    engine: Engine | None = None,
    dead_letters: DeadLetterStore | None = None,
    alerter: Alerter | None = None,
) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms, or the in-process broker for the embedded mode; both
    read every delivered body with `envelope.read_envelope` before Dramatiq does."""
    middleware = project_middleware(
        settings, engine=engine, dead_letters=dead_letters, alerter=alerter
    )
    limit = settings.max_message_bytes
    if settings.uses_embedded_broker:
        return GuardedStubBroker(max_message_bytes=limit, middleware=middleware)
    # Confirms on: an enqueue returns only once RabbitMQ has taken the message.
    return GuardedRabbitmqBroker(
        max_message_bytes=limit,
        url=settings.queue_url,
        confirm_delivery=True,
        middleware=middleware,
    )


def install_broker(settings: Settings, *, engine: Engine | None = None) -> dramatiq.Broker:
    """Build the broker and make it the global one; call before importing actors."""
    broker = build_broker(settings, engine=engine)
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


def declare_actors(broker: dramatiq.Broker, actors: Iterable[dramatiq.Actor[..., Any]]) -> None:
    """Make `broker` run `actors` even if their module was imported under another broker first
    (`@dramatiq.actor` binds at import; the demo and the tests run several brokers in turn)."""
    for actor in actors:
        if actor.actor_name not in broker.actors:
            broker.declare_actor(actor)

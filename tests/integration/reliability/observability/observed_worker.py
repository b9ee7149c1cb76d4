"""A dramatiq worker module wired as `broker.py` and `runtime.py` wire the services' workers,
plus the observability middleware (added here only if the project list lacks it), and one actor
that logs inside a run and records a dead letter. Run by `test_worker_process.py`.
"""

from __future__ import annotations

import logging
import os

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import Middleware

from lineblocs_shared.db import make_engine
from lineblocs_shared.queue.broker import project_middleware
from lineblocs_shared.reliability.observability.health_server import HealthEndpoint
from lineblocs_shared.reliability.observability.logs import (
    LogContext,
    bind_run_id,
    configure_logging,
)
from lineblocs_shared.reliability.observability.metrics import PrometheusMetrics, record_dead_letter
from lineblocs_shared.settings import load_settings

QUEUE = os.environ["OBSERVED_QUEUE"]

settings = load_settings()
configure_logging(settings)


def _with_observability(middleware: list[Middleware]) -> list[Middleware]:
    def missing(kind: type[Middleware]) -> bool:
        return not any(isinstance(m, kind) for m in middleware)

    first = [LogContext()] if missing(LogContext) else []
    last: list[Middleware] = []
    if missing(PrometheusMetrics):
        last.append(PrometheusMetrics(settings))
    if missing(HealthEndpoint):
        last.append(HealthEndpoint(settings, engine=make_engine(settings.database_url)))
    return [*first, *middleware, *last]


broker = RabbitmqBroker(
    url=settings.queue_url,
    confirm_delivery=True,
    middleware=_with_observability(project_middleware(settings)),
)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, actor_name="observed", max_retries=0)
def observed(run_id: int) -> None:
    with bind_run_id(run_id):
        logging.getLogger("lineblocs.observed").info("observed run %d", run_id)
    record_dead_letter("observed", QUEUE, "fatal")

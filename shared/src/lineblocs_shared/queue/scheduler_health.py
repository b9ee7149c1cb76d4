"""/livez and /readyz of a scheduler process, on HEALTH_PORT as a worker's are.

periodiq is one process that sleeps until the next tick, with nothing a container probe could
ask, and no dramatiq Worker boots in it to start `HealthEndpoint`. `lineblocs-jobs scheduler`
names this module as one of periodiq's "additional modules": periodiq imports it after the
service's worker module (broker installed, actors declared, logging set), and importing it
starts the server in a daemon thread, then periodiq keeps the main thread for its schedule.
"""

from __future__ import annotations

import logging
import threading

from lineblocs_shared.reliability.observability.health import (
    CachedReadiness,
    CheckResult,
    RabbitmqCheck,
)
from lineblocs_shared.reliability.observability.health_server import LIVEZ, READYZ, HealthServer
from lineblocs_shared.settings import load_settings

logger = logging.getLogger(__name__)


def scheduler_liveness() -> CheckResult:
    # periodiq schedules from the main thread (its SIGALRM handler wakes it there): when that
    # thread ends the process ends too, so an answer at all already says the process is alive.
    if not threading.main_thread().is_alive():
        return CheckResult("scheduler", False, "the scheduling thread has ended")
    return CheckResult("scheduler", True, "periodiq's scheduling thread runs")


def serve_scheduler_health() -> HealthServer | None:
    """Start the server, unless HEALTH_PORT is 0 or another process of the container has it."""
    settings = load_settings()
    if settings.health_port == 0:
        return None
    # Ready when RabbitMQ answers: all a scheduler does is send (dramatiq declares the queue it
    # sends to), so neither MySQL nor a worker's queues being there yet decide.
    readiness = CachedReadiness([("broker", RabbitmqCheck(settings.queue_url, ()))], ttl_s=5.0)
    server = HealthServer(
        port=settings.health_port, liveness=scheduler_liveness, readiness=readiness.report
    )
    if not server.start():
        logger.warning("health port %d taken: no /livez for the scheduler", settings.health_port)
        return None
    logger.info("health endpoint on port %d (%s, %s)", server.port, LIVEZ, READYZ)
    return server


SERVER = serve_scheduler_health()

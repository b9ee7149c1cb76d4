"""`GET /livez` and `GET /readyz` served from inside a dramatiq worker process.

Liveness says the process and its worker threads are alive (restart me if not); readiness says
its dependencies answer (`health.py`). With several worker processes in one container only the
first to boot binds HEALTH_PORT; the others skip it silently. That is enough: when any worker
process dies the dramatiq master stops them all, and readiness does not depend on the process.
"""

from __future__ import annotations

import errno
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware
from sqlalchemy import Engine

from lineblocs_shared.reliability.observability.health import (
    CachedReadiness,
    CheckResult,
    DatabaseCheck,
    RabbitmqCheck,
    ReadinessReport,
)
from lineblocs_shared.settings import Settings

logger = logging.getLogger(__name__)

LIVEZ = "/livez"
READYZ = "/readyz"


class HealthServer:
    """A small threaded HTTP server in a daemon thread: liveness apart from readiness."""

    def __init__(
        self,
        *,
        port: int,
        liveness: Callable[[], CheckResult],
        readiness: Callable[[], ReadinessReport],
        host: str = "0.0.0.0",  # noqa: S104 - probes come from outside the container
    ) -> None:
        self._address = (host, port)
        self._liveness = liveness
        self._readiness = readiness
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("health server not started")
        return int(self._server.server_address[1])

    def start(self) -> bool:
        """Serve in the background; False when another process already holds the port."""
        try:
            server = ThreadingHTTPServer(self._address, self._handler_class())
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            return False
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
        return True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        liveness, readiness = self._liveness, self._readiness

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == LIVEZ:
                    alive = liveness()
                    body = {"status": "alive" if alive.ok else "dead", "detail": alive.detail}
                    self._reply(200 if alive.ok else 503, body)
                elif path == READYZ:
                    report = readiness()
                    self._reply(200 if report.ok else 503, report.as_json())
                else:
                    self._reply(404, {"error": f"no such path; try {LIVEZ} or {READYZ}"})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug(format, *args)  # probes every few seconds: not worth INFO

        return Handler


def worker_liveness(worker: dramatiq.Worker) -> CheckResult:
    """Alive while every worker thread and every consumer thread of the Worker runs."""
    threads = [*worker.workers, *worker.consumers.values()]
    dead = [thread.name for thread in threads if not thread.is_alive()]
    if dead:
        return CheckResult("worker", False, f"dead threads: {', '.join(dead)}")
    return CheckResult(
        "worker", True, f"{len(worker.workers)} worker, {len(worker.consumers)} consumer threads"
    )


class HealthEndpoint(Middleware):
    """Starts the health server when a dramatiq Worker boots in this process (not in embedded
    mode, where the demo's and the tests' in-process workers need no probe)."""

    def __init__(self, settings: Settings, *, engine: Engine, cache_ttl_s: float = 5.0) -> None:
        self._settings = settings
        self._engine = engine  # the process's: readiness asks the pool the actors use
        self._cache_ttl_s = cache_ttl_s
        self._server: HealthServer | None = None
        self._stopping = False

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        settings = self._settings
        if settings.health_port == 0 or settings.uses_embedded_broker:
            return
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        readiness = CachedReadiness(
            [
                ("database", DatabaseCheck(self._engine)),
                ("broker", RabbitmqCheck(settings.queue_url, queues)),
            ],
            ttl_s=self._cache_ttl_s,
        )
        server = HealthServer(
            port=settings.health_port,
            liveness=lambda: worker_liveness(worker),
            readiness=lambda: self._readiness(readiness),
        )
        if server.start():
            self._server = server
            logger.info("health endpoint on port %d (%s, %s)", server.port, LIVEZ, READYZ)
        else:
            logger.debug("port %d taken by another worker process", settings.health_port)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stopping = True

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _readiness(self, readiness: CachedReadiness) -> ReadinessReport:
        if self._stopping:
            return ReadinessReport((CheckResult("worker", False, "shutting down"),))
        return readiness.report()

"""Health: liveness apart from readiness, a cache that spares the database, one JSON body."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from lineblocs_shared.db import make_engine
from lineblocs_shared.queue.inprocess_worker import start_worker
from lineblocs_shared.reliability.observability.health import (
    CachedReadiness,
    Check,
    CheckResult,
    ReadinessReport,
    expected_queues,
    run_checks,
)
from lineblocs_shared.reliability.observability.health_server import (
    HealthEndpoint,
    HealthServer,
    worker_liveness,
)
from lineblocs_shared.settings import load_settings


@dataclass
class FakeCheck:
    """Answers what it is told and counts how often it was asked."""

    result: CheckResult
    calls: int = 0

    def run(self) -> Sequence[CheckResult]:
        self.calls += 1
        return [self.result]


class BrokenCheck:
    def run(self) -> Sequence[CheckResult]:
        raise ConnectionResetError("connection reset by peer\nmore detail")


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[HealthServer] = []

    def start(liveness: CheckResult, readiness: ReadinessReport, port: int = 0) -> HealthServer:
        server = HealthServer(
            host="127.0.0.1", port=port, liveness=lambda: liveness, readiness=lambda: readiness
        )
        if server.start():
            servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


ALIVE = CheckResult("worker", True, "4 worker threads")
DB_OK = CheckResult("database", True, "answers")
QUEUES_MISSING = CheckResult("queues", False, "missing: billing.XQ")


def test_every_queue_comes_with_its_delay_and_dead_letter_queues() -> None:
    assert expected_queues(["billing"]) == ["billing", "billing.DQ", "billing.XQ"]


def test_a_check_that_raises_fails_under_its_name_with_one_line() -> None:
    report = run_checks([("database", FakeCheck(DB_OK)), ("broker", BrokenCheck())])

    assert not report.ok
    assert report.failures == (CheckResult("broker", False, "connection reset by peer"),)
    assert report.as_json() == {
        "status": "not ready",
        "checks": {
            "database": {"ok": True, "detail": "answers"},
            "broker": {"ok": False, "detail": "connection reset by peer"},
        },
    }


def test_readiness_runs_the_checks_at_most_once_per_ttl() -> None:
    now = [100.0]
    database = FakeCheck(DB_OK)
    checks: list[tuple[str, Check]] = [("database", database)]
    readiness = CachedReadiness(checks, ttl_s=5.0, monotonic=lambda: now[0])

    for _ in range(10):
        assert readiness.report().ok
    now[0] += 4.9
    readiness.report()
    assert database.calls == 1

    now[0] += 0.2
    database.result = CheckResult("database", False, "gone")
    assert not readiness.report().ok
    assert database.calls == 2


def test_livez_answers_while_readyz_says_not_ready(serve: object) -> None:
    server = serve(ALIVE, ReadinessReport((DB_OK, QUEUES_MISSING)))  # type: ignore[operator]
    base = f"http://127.0.0.1:{server.port}"

    assert get(f"{base}/livez") == (200, {"status": "alive", "detail": "4 worker threads"})
    status, body = get(f"{base}/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"] == {
        "database": {"ok": True, "detail": "answers"},
        "queues": {"ok": False, "detail": "missing: billing.XQ"},
    }
    assert get(f"{base}/metrics")[0] == 404


def test_readyz_is_200_when_every_check_passes(serve: object) -> None:
    server = serve(ALIVE, ReadinessReport((DB_OK,)))  # type: ignore[operator]

    status, body = get(f"http://127.0.0.1:{server.port}/readyz?verbose=1")

    assert (status, body["status"]) == (200, "ready")


def test_livez_is_503_when_the_process_is_not_alive(serve: object) -> None:
    server = serve(CheckResult("worker", False, "dead threads: w-1"), ReadinessReport(()))  # type: ignore[operator]

    assert get(f"http://127.0.0.1:{server.port}/livez") == (
        503,
        {"status": "dead", "detail": "dead threads: w-1"},
    )


def test_a_second_process_on_the_same_port_skips_quietly(serve: object) -> None:
    first = serve(ALIVE, ReadinessReport(()))  # type: ignore[operator]
    second = HealthServer(
        host="127.0.0.1",
        port=first.port,
        liveness=lambda: ALIVE,
        readiness=lambda: ReadinessReport(()),
    )

    assert second.start() is False
    assert get(f"http://127.0.0.1:{first.port}/livez")[0] == 200


def test_liveness_follows_the_worker_threads() -> None:
    broker = StubBroker()
    broker.declare_queue("billing")
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    start_worker(worker)
    try:
        alive = worker_liveness(worker)
    finally:
        worker.stop()

    assert alive.ok, alive.detail
    dead = worker_liveness(worker)
    assert not dead.ok
    assert dead.detail.startswith("dead threads: ")


def test_no_endpoint_for_the_in_process_workers_of_the_embedded_mode() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = load_settings(health_port=port)
    endpoint = HealthEndpoint(settings, engine=make_engine(settings.database_url))
    broker = StubBroker(middleware=[endpoint])
    broker.declare_queue("billing")
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    start_worker(worker)
    try:
        with socket.socket() as sock:
            sock.bind(("0.0.0.0", port))  # still free: nothing listens there
    finally:
        worker.stop()

"""The container health check: the image's `python -S probe.py` against a live health server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from lineblocs_shared.reliability.observability import probe
from lineblocs_shared.reliability.observability.health import CheckResult, ReadinessReport
from lineblocs_shared.reliability.observability.health_server import HealthServer
from tests.support.smtp_server import free_port

ALIVE = CheckResult("worker", True, "2 threads")


def run_probe(port: int, *path: str) -> subprocess.CompletedProcess[str]:
    # As the HEALTHCHECK runs it: no site packages, the port from the environment.
    return subprocess.run(
        [sys.executable, "-S", probe.__file__, *path],
        env={"HEALTH_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def server() -> Iterator[tuple[HealthServer, list[CheckResult]]]:
    readiness = [CheckResult("database", True, "answers")]
    server = HealthServer(
        port=0,
        host="127.0.0.1",
        liveness=lambda: ALIVE,
        readiness=lambda: ReadinessReport(tuple(readiness)),
    )
    assert server.start()
    yield server, readiness
    server.stop()


def test_ready_process_is_healthy(server: tuple[HealthServer, list[CheckResult]]) -> None:
    result = run_probe(server[0].port)
    assert result.returncode == 0, result.stderr


def test_unready_process_is_unhealthy_with_the_reason(
    server: tuple[HealthServer, list[CheckResult]],
) -> None:
    health, readiness = server
    readiness[0] = CheckResult("database", False, "refused")
    result = run_probe(health.port)
    assert result.returncode == 1
    assert "503" in result.stderr
    assert "refused" in result.stderr
    # Liveness is a path away: the process itself still runs.
    assert run_probe(health.port, "/livez").returncode == 0


def test_nothing_listening_is_unhealthy() -> None:
    result = run_probe(free_port())
    assert result.returncode == 1
    assert "refused" in result.stderr.lower()


def test_the_probe_needs_only_the_standard_library() -> None:
    # `python -S -I`: no site packages and no project path; the image runs it the same way.
    code = f"import runpy, sys; runpy.run_path({probe.__file__!r}, run_name='probe'); " + (
        "print(sorted(m for m in sys.modules if m.startswith(('lineblocs', 'pydantic'))))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

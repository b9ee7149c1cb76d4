"""The CLI: version, service discovery, and one-line failures instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lineblocs_shared.cli.processes import dramatiq_argv, periodiq_argv
from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.registry import get_service, installed_services
from tests.support.cli import CLI


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    return subprocess.run(
        [CLI, *args], env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("lineblocs-jobs 0.")


def test_the_three_services_are_discovered() -> None:
    services = installed_services()
    assert list(services) == ["billing", "maintenance", "notifications"]
    for name, spec in services.items():
        assert spec.queues == (name,)
        assert spec.worker_module == f"lineblocs_{name}.worker"


def test_worker_command_line_consumes_only_the_service_queues() -> None:
    argv = dramatiq_argv(get_service("maintenance"), processes=2, threads=8)
    assert argv[1:] == [
        "-m",
        "lineblocs_shared.queue.process_cli",
        "dramatiq",
        "lineblocs_maintenance.worker",
        "--queues",
        "maintenance",
        "--processes",
        "2",
        "--threads",
        "8",
    ]
    assert periodiq_argv(get_service("billing"))[1:] == [
        "-m",
        "lineblocs_shared.queue.process_cli",
        "periodiq",
        "lineblocs_billing.worker",
        "lineblocs_shared.queue.scheduler_health",
    ]


def test_worker_refuses_the_in_process_broker() -> None:
    assert_one_line_failure(run_cli("worker", "maintenance"), "needs RabbitMQ")


def test_unknown_service() -> None:
    result = run_cli("worker", "accounting", QUEUE_URL="amqp://guest:guest@127.0.0.1:1/")
    assert_one_line_failure(result, "unknown service 'accounting'")


def test_bad_configuration() -> None:
    assert_one_line_failure(run_cli("db", "upgrade", LOG_LEVEL="LOUD"), "LOG_LEVEL")


def test_unreachable_broker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)  # our tables are there: the broker is the one failure
    engine.dispose()
    result = run_cli("health", DATABASE_URL=url, QUEUE_URL="amqp://guest:guest@127.0.0.1:1/%2F")
    assert_one_line_failure(result, "RabbitMQ unreachable at 127.0.0.1:1")


@pytest.mark.parametrize("environment", ["production"])
def test_deployed_environment_refuses_defaults(environment: str) -> None:
    assert_one_line_failure(run_cli("health", ENVIRONMENT=environment), "needs MySQL and RabbitMQ")

"""The CLI imports only what the command it runs uses (issue 15: `--help` cost ~4 s of CPU).

Checked by the modules loaded, not by timing: a timing test is flaky on a shared machine, while
one stray import at the top of a command module shows up here on any machine. The timings are
the `cli_startup` benchmark's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from lineblocs_shared.cli.app import SHARED_COMMANDS, app
from lineblocs_shared.cli.lazy import LazyCommand
from lineblocs_shared.registry import installed_services, load_target

# What the services' commands, the workers and the demo need; never the root --help.
PAYMENT_SDKS = ("stripe", "braintree")
HEAVY = (
    *PAYMENT_SDKS,
    "boto3",
    "botocore",
    "jinja2",
    "sqlmodel",
    "alembic",
    "sentry_sdk",
    "dramatiq.brokers.rabbitmq",
    "lineblocs_shared.models",
)
# The CLI run in a fresh interpreter; the modules it loaded are written to argv[1].
PROBE = """
import json, sys
out, sys.argv = sys.argv[1], ["lineblocs-jobs", *sys.argv[2:]]
from lineblocs_shared.cli import main
try:
    main()
except SystemExit:
    pass
with open(out, "w") as f:
    json.dump(sorted(sys.modules), f)
"""


def modules_loaded(tmp_path: Path, *args: str, **env: str) -> set[str]:
    out = tmp_path / "modules.json"
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        env={**base, **env},
        capture_output=True,
        timeout=60,
        check=False,
    )
    return set(json.loads(out.read_text()))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


# Before any command runs: no database driver, broker client or settings model either.
BEFORE_ANY_COMMAND = (*HEAVY, "sqlalchemy", "pymysql", "pika", "pydantic", "dramatiq")


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["--help"], BEFORE_ANY_COMMAND),
        (["--version"], BEFORE_ANY_COMMAND),
        (["health", "--help"], HEAVY),
    ],
)
def test_help_imports_only_what_it_shows(
    tmp_path: Path, args: list[str], absent: tuple[str, ...]
) -> None:
    modules = modules_loaded(tmp_path, *args)
    assert "lineblocs_shared.cli.app" in modules
    assert loaded(modules, absent) == []


def test_root_help_imports_no_command_module(tmp_path: Path) -> None:
    modules = modules_loaded(tmp_path, "--help")
    commands = {m for m in modules if m.startswith("lineblocs_shared.cli.")}
    assert commands == {"lineblocs_shared.cli.app", "lineblocs_shared.cli.lazy"}
    # Of the services, only their ServiceSpec modules (and packages) are imported.
    services = {m for m in modules if m.startswith("lineblocs_") and "shared" not in m}
    specs = {
        f"lineblocs_{name}{module}" for name in installed_services() for module in ("", ".service")
    }
    assert services <= specs


def test_health_imports_neither_payment_sdks_nor_models(tmp_path: Path) -> None:
    # An unreachable broker: the whole command runs (settings, engine, both checks), then fails.
    modules = modules_loaded(
        tmp_path,
        "health",
        "--service",
        "billing",
        DATABASE_URL="sqlite://",
        QUEUE_URL="amqp://guest:guest@127.0.0.1:1/%2F",
    )
    assert "lineblocs_shared.reliability.observability.health" in modules
    assert loaded(modules, HEAVY) == []


def test_root_help_summaries_are_the_commands_own() -> None:
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    for name, _target, summary in SHARED_COMMANDS:
        command = root.commands[name]
        assert isinstance(command, LazyCommand)
        assert (command.real.help or "").split("\n\n")[0].strip() == summary, name


def test_service_commands_resolve() -> None:
    for name, spec in installed_services().items():
        assert spec.cli is not None
        assert spec.demo is not None
        assert isinstance(load_target(spec.cli), typer.Typer)
        assert callable(load_target(spec.demo))
        result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert spec.summary in result.output
        assert "Commands" in result.output


def test_a_lazy_command_runs_with_its_own_options() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    assert "--processes" in result.output
    assert "Usage: root worker [OPTIONS]" in result.output

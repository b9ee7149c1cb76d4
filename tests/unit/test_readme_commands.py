"""The README's promise: after the two set-up commands, its commands work as written. Those
that read a database run against the demo's (SQLite, in-process broker); those that need
MySQL and RabbitMQ, run forever or ask a question get their options checked against `--help`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import CLI

REPO = Path(__file__).resolve().parents[2]
PREFIX = "./.venv/bin/lineblocs-jobs "
# Need MySQL + RabbitMQ, never return, or ask: their options are checked, not run.
NOT_RUN = ("db setup", "worker ", "scheduler ", "health", "outbox purge", "notifications serve")


def readme_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Running it for real", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        if line.startswith(PREFIX):
            words = shlex.split(line[len(PREFIX) :], comments=True)
            commands.append(words)
    return commands


COMMANDS = readme_commands()


def test_the_readme_has_its_commands() -> None:
    assert len(COMMANDS) > 20


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    database = folder / "lineblocs-demo.sqlite3"
    subprocess.run(
        [CLI, "demo", "--database", str(database), "--now", "2026-11-23T12:00:00"],
        env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        cwd=folder,
        capture_output=True,
        timeout=180,
        check=True,
    )
    return database


def run(words: list[str], database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(database.parent),
        "DATABASE_URL": f"sqlite:///{database}",
        "QUEUE_URL": "memory://",
    }
    return subprocess.run(
        [CLI, *words], env=env, cwd=database.parent, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) for w in COMMANDS])
def test_a_readme_command_works_as_written(words: list[str], demo_database: Path) -> None:
    line = " ".join(words)
    if line.startswith(NOT_RUN):
        command = [w for w in words if not w.startswith("-") and not re.fullmatch(r"\d+\w*", w)]
        helped = run([*command[:2], "--help"], demo_database)
        assert helped.returncode == 0, helped.stderr
        for option in (w for w in words if w.startswith("--")):
            assert option in helped.stdout, (line, option)
        return
    done = run(words, demo_database)
    assert done.returncode == 0, (line, done.stderr[-2000:])
    assert done.stdout.strip(), line

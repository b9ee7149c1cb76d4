"""Root of the `lineblocs-jobs` command line.

Expected failures (bad config, database or broker unreachable, wrong schema) print one line on
stderr and exit 1; anything else is a bug and keeps its traceback.

Every command is a `LazyCommand`: its module is imported only when it runs, so `--help` and
`health` do not pay for the payment SDKs, the models or the broker (issue 15).
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from lineblocs_shared import __version__
from lineblocs_shared.cli.lazy import LazyCommand
from lineblocs_shared.errors import ExpectedFailure
from lineblocs_shared.registry import installed_services

# name, "module:attribute", summary shown by the root --help (a unit test keeps each summary
# equal to the loaded command's own).
SHARED_COMMANDS = (
    (
        "worker",
        "lineblocs_shared.cli.processes:worker",
        "Run the service's Dramatiq worker on its own queues.",
    ),
    (
        "scheduler",
        "lineblocs_shared.cli.processes:scheduler",
        "Run periodiq for the service: it enqueues the service's periodic actors on time.",
    ),
    (
        "demo",
        "lineblocs_shared.cli.demo:demo",
        "Run the jobs on a fresh SQLite database with an in-process broker and worker threads.",
    ),
    (
        "health",
        "lineblocs_shared.cli.ops:health",
        "Exit 0 when ready: the database and the broker answer (and the service's queues exist).",
    ),
    (
        "status",
        "lineblocs_shared.cli.status:status",
        "Show each job's last runs: period, state, attempts, duration, lag and last error.",
    ),
    ("db", "lineblocs_shared.cli.db:app", "Database set-up and migrations."),
    ("dlq", "lineblocs_shared.cli.dlq:app", "Dead letters: list, show, replay, purge."),
    (
        "outbox",
        "lineblocs_shared.cli.outbox:app",
        "Transactional outbox: relay, list, show, purge.",
    ),
)


class RootGroup(TyperGroup):
    """The root group, given the shared commands and each installed service's, all lazy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, target, summary in SHARED_COMMANDS:
            self.add_command(LazyCommand(name, target, summary))
        for spec in installed_services().values():
            if spec.cli is not None:
                command = LazyCommand(spec.name, spec.cli, spec.summary, group_help=spec.summary)
                self.add_command(command)


app = typer.Typer(
    cls=RootGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Lineblocs background jobs: billing, maintenance and notifications on Dramatiq.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lineblocs-jobs {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lineblocs background jobs."""


def main() -> None:
    try:
        app()
    except ExpectedFailure as exc:
        typer.secho(f"lineblocs-jobs: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)

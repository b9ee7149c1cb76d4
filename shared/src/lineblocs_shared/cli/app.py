"""Root of the `lineblocs-jobs` command line.

Expected failures (bad config, database or broker unreachable, wrong schema) print one line on
stderr and exit 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

from lineblocs_shared import __version__
from lineblocs_shared.cli import db, demo, dlq, ops, outbox, processes, status
from lineblocs_shared.errors import ExpectedFailure
from lineblocs_shared.registry import installed_services

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Lineblocs background jobs: billing, maintenance and notifications on Dramatiq.",
)
app.add_typer(db.app, name="db")
app.add_typer(dlq.app, name="dlq")
app.add_typer(outbox.app, name="outbox")
app.command("worker")(processes.worker)
app.command("scheduler")(processes.scheduler)
app.command("demo")(demo.demo)
app.command("health")(ops.health)
app.command("status")(status.status)


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


def _add_service_commands() -> None:
    for spec in installed_services().values():
        if spec.cli is not None:
            app.add_typer(spec.cli, name=spec.name, help=spec.summary)


def main() -> None:
    try:
        _add_service_commands()
        app()
    except ExpectedFailure as exc:
        typer.secho(f"lineblocs-jobs: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)

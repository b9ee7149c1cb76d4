"""`lineblocs-jobs maintenance …`: maintenance jobs by hand. Each command is a thin call into a
module."""

from __future__ import annotations

import typer

from lineblocs_maintenance.cli.relocate import relocate_recordings_command

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.command("relocate-recordings")(relocate_recordings_command)

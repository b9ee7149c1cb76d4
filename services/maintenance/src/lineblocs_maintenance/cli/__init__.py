"""`lineblocs-jobs maintenance …`: each job by hand, as a manual run in the job-run ledger.
Each command is a thin call into a handler."""

from __future__ import annotations

import typer

from lineblocs_maintenance.cli import commands
from lineblocs_maintenance.cli.relocate import relocate_recordings_command

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.command("purge-logs")(commands.purge_logs)
app.command("cleanup-users")(commands.cleanup_users)
app.command("retention")(commands.retention)
app.command("relocate-recordings")(relocate_recordings_command)

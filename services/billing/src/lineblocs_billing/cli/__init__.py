"""`lineblocs-jobs billing …`: the billing service's commands, each a thin call into a module."""

from __future__ import annotations

import typer

from lineblocs_billing.cli import preview, run

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.command("run")(run.run)
app.command("preview")(preview.preview)

"""`lineblocs-jobs notifications …`: the ledger, previews, resends, sweeps by hand, and the
unsubscribe endpoint. Each command is a thin call into a module."""

from __future__ import annotations

import typer

from lineblocs_notifications.cli import ledger_views, preview, resend, run, unsubscribe

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.command("list")(ledger_views.list_notifications)
app.command("show")(ledger_views.show)
app.command("preview")(preview.preview)
app.command("resend")(resend.resend)
app.command("run")(run.run)
app.command("serve-unsubscribe")(unsubscribe.serve)

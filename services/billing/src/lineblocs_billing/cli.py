"""`lineblocs-jobs billing …`: the billing service's commands, each a thin call into a module."""

from __future__ import annotations

import typer

from lineblocs_billing import composition, distributor_cli, preview
from lineblocs_shared.clock import FixedClock
from lineblocs_shared.settings import load_settings

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.command("run")(distributor_cli.run)


@app.command("preview")
def preview_command(
    subscription: int = typer.Option(..., "--subscription", min=1, help="subscriptions.id"),
    period_start: str | None = typer.Option(
        None, "--period-start", help="YYYY-MM-DD; default: the subscription's next period"
    ),
    now: str | None = typer.Option(None, "--now", help="ISO-8601 instant taken as now (UTC)"),
) -> None:
    """Print one JSON object: the invoice of a period, computed without writing anything."""
    at = preview.parse_now(now)
    deps = composition.build(load_settings(), clock=FixedClock(at) if at else None, pool_size=1)
    try:
        document = preview.preview_json(
            deps, subscription_id=subscription, period_start=preview.parse_day(period_start), now=at
        )
    finally:
        deps.engine.dispose()
    typer.echo(document)

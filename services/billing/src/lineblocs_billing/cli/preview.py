"""`lineblocs-jobs billing preview`: one period's invoice as JSON, computed, nothing written."""

from __future__ import annotations

import typer

from lineblocs_billing.cli.parsing import parse_day
from lineblocs_billing.invoicing.preview import preview_json
from lineblocs_shared.cli.options import parse_instant
from lineblocs_shared.clock import SystemClock
from lineblocs_shared.db import make_engine
from lineblocs_shared.settings import load_settings


def preview(
    subscription: int = typer.Option(..., "--subscription", min=1, help="subscriptions.id"),
    period_start: str | None = typer.Option(
        None, "--period-start", help="YYYY-MM-DD; default: the subscription's next period"
    ),
    now: str | None = typer.Option(None, "--now", help="ISO-8601 instant taken as now (UTC)"),
) -> None:
    """Print one JSON object: the invoice of a period, computed without writing anything."""
    at = parse_instant(now) or SystemClock().now()
    start = parse_day(period_start)
    engine = make_engine(load_settings().database_url, pool_size=1)
    try:
        document = preview_json(engine, subscription_id=subscription, period_start=start, now=at)
    finally:
        engine.dispose()
    typer.echo(document)

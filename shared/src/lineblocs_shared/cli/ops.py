"""Operational commands: health."""

from __future__ import annotations

import typer

from lineblocs_shared.db import make_engine
from lineblocs_shared.registry import get_service
from lineblocs_shared.reliability.observability.health import (
    Check,
    DatabaseCheck,
    EmbeddedBrokerCheck,
    RabbitmqCheck,
    run_checks,
)
from lineblocs_shared.settings import load_settings


def health(
    service: str | None = typer.Option(
        None, help="also check that this service's queues (with .DQ and .XQ) exist"
    ),
) -> None:
    """Exit 0 when ready: the database and the broker answer (and the service's queues exist).

    Not ready: exit 1 with one line per failing check on stderr. Container healthchecks run
    this; a worker's HTTP `GET /readyz` runs the same checks.
    """
    settings = load_settings()
    queues = get_service(service).queues if service is not None else ()
    broker: Check = (
        EmbeddedBrokerCheck()
        if settings.uses_embedded_broker
        else RabbitmqCheck(settings.queue_url, queues)
    )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        report = run_checks([("database", DatabaseCheck(engine)), ("broker", broker)])
    finally:
        engine.dispose()
    for failure in report.failures:
        typer.secho(
            f"lineblocs-jobs: {failure.name}: {failure.detail}", err=True, fg=typer.colors.RED
        )
    if not report.ok:
        raise typer.Exit(1)
    typer.echo("ok: " + "; ".join(f"{r.name}: {r.detail}" for r in report.results))

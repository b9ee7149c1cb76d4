"""Operational commands: health."""

from __future__ import annotations

import typer

from lineblocs_shared.broker import ping_broker
from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.services import get_service
from lineblocs_shared.settings import load_settings


def health(
    service: str | None = typer.Option(None, help="also check that this service is installed"),
) -> None:
    """Exit 0 when the database and the broker answer (container healthchecks run this)."""
    settings = load_settings()
    if service is not None:
        get_service(service)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)
    finally:
        engine.dispose()
    ping_broker(settings)
    typer.echo("ok: database and broker answer")

"""`notifications serve-unsubscribe [--host] [--port]`: the endpoint UNSUBSCRIBE_URL points at
(`unsubscribe_endpoint.py`), run as its own small process behind the site's HTTPS ingress."""

from __future__ import annotations

import typer

from lineblocs_notifications.cli.common import notifications
from lineblocs_notifications.unsubscribe_endpoint import UnsubscribeServer
from lineblocs_shared.errors import ConfigError


def serve(
    host: str = typer.Option("0.0.0.0", help="address to listen on"),  # noqa: S104
    port: int = typer.Option(8025, min=1, max=65535, help="port to listen on"),
) -> None:
    """Serve one-click unsubscribes until interrupted."""
    with notifications() as deps:
        if not deps.options.unsubscribe_secret.get_secret_value():
            raise ConfigError("UNSUBSCRIBE_SECRET is not set: no link could be verified")
        server = UnsubscribeServer(deps, host=host, port=port)
        typer.echo(f"serving unsubscribes on {host}:{server.port}", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

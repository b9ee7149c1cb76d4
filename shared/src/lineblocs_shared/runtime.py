"""Process start-up shared by every worker, scheduler and CLI command."""

from __future__ import annotations

import dramatiq

from lineblocs_shared.broker import install_broker
from lineblocs_shared.reliability.logs import configure_logging
from lineblocs_shared.reliability.sentry import init_sentry
from lineblocs_shared.settings import Settings, load_settings

__all__ = ["bootstrap_process", "configure_logging"]


def bootstrap_process() -> tuple[Settings, dramatiq.Broker]:
    """Read settings once, configure logging and Sentry, install the broker: before any actor
    import. Sentry comes after logging so its breadcrumbs see the configured log records."""
    settings = load_settings()
    configure_logging(settings)
    init_sentry(settings)
    return settings, install_broker(settings)

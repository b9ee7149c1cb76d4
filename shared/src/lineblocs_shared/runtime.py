"""Process start-up shared by every worker, scheduler and CLI command."""

from __future__ import annotations

import logging

import dramatiq

from lineblocs_shared.broker import install_broker
from lineblocs_shared.settings import Settings, load_settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    # pika logs every connection step at INFO.
    logging.getLogger("pika").setLevel(logging.WARNING)


def bootstrap_process() -> tuple[Settings, dramatiq.Broker]:
    """Read settings once, configure logging, install the broker: before any actor import."""
    settings = load_settings()
    configure_logging(settings)
    return settings, install_broker(settings)

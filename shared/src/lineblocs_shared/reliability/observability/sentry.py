"""Sentry for every process: one event per dead letter, scrubbed of secrets and personal data.

Dramatiq logs every failed attempt at ERROR with its traceback; Sentry's logging integration
would turn each of those into an event. Here log records only become breadcrumbs, no framework
integration captures anything by itself, and the only events are the ones `SentryAlerter`
sends for dead letters (plus a crash of the process itself, via Python's excepthook).
"""

from __future__ import annotations

import logging
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from lineblocs_shared.reliability.observability.redaction import (
    REDACTED,
    is_card_number,
    is_secret_name,
    scrub_text,
)
from lineblocs_shared.settings import Settings

# Personal data Sentry may attach under these names even with send_default_pii off.
PERSONAL_NAMES = frozenset({"email", "emailaddress", "ipaddress", "ip", "username", "phone"})


def init_sentry(settings: Settings) -> bool:
    """Start the Sentry client when SENTRY_DSN is set; returns whether it is on."""
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment.value,
        # send_default_pii is left at its default, off: passing it at all is deprecated in
        # sentry-sdk 2.7x, and passing `data_collection` instead would turn off its scrubber.
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=None)],
        # Dedupe drops an event whose exception object was already captured: it would silently
        # swallow a dead-letter alert if an actor had reported its exception itself.
        disabled_integrations=[DramatiqIntegration, DedupeIntegration],
        # Framework integrations stay off: they could capture failures on their own.
        auto_enabling_integrations=False,
    )
    return True


def scrub_event(event: Any, hint: Any) -> Any:
    """`before_send`: the event with secrets and personal data removed, breadcrumbs included."""
    return scrub(event)


def scrub_breadcrumb(crumb: Any, hint: Any) -> Any:
    """`before_breadcrumb`: a breadcrumb cleaned the same way as an event."""
    return scrub(crumb)


def scrub(value: Any) -> Any:
    """A cleaned copy of any JSON-like value: by field name, then by the look of each value."""
    if isinstance(value, dict):
        return {key: _scrub_field(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and is_card_number(str(value)):
        return REDACTED
    return value


def _scrub_field(name: str, value: Any) -> Any:
    compact = "".join(ch for ch in name.lower() if ch.isalnum())
    if value is not None and (is_secret_name(name) or compact in PERSONAL_NAMES):
        return REDACTED
    return scrub(value)

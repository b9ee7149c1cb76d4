"""Parsing the billing commands' options: one clear `ConfigError` for a malformed value."""

from __future__ import annotations

from datetime import date, datetime

from lineblocs_shared.db.types import as_utc
from lineblocs_shared.errors import ConfigError


def parse_now(text: str | None) -> datetime | None:
    """--now: ISO-8601; a time without zone is UTC."""
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"--now {text!r} is not an ISO-8601 date and time") from None


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--period-start {text!r} is not a YYYY-MM-DD date") from None

"""Parsing the billing commands' options: one clear `ConfigError` for a malformed value."""

from __future__ import annotations

from datetime import date

from lineblocs_shared.errors import ConfigError


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--period-start {text!r} is not a YYYY-MM-DD date") from None

"""Parsing the commands' common option values: one clear `ConfigError` for a malformed one."""

from __future__ import annotations

from datetime import datetime

from lineblocs_shared.db.types import as_utc
from lineblocs_shared.errors import ConfigError


def parse_instant(text: str | None, *, option: str = "--now") -> datetime | None:
    """An instant option (--now, --since): ISO-8601; a time without zone is UTC."""
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not an ISO-8601 date and time") from None

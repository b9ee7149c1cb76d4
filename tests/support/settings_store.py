"""Lineblocs' settings tables (KV stores and the legacy one-row tables) on in-memory SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from lineblocs_shared.models.base import LineblocsTable

SETTINGS_TABLES = (
    "customizations_kv_store",
    "api_credentials_kv_store",
    "customizations",
    "api_credentials",
)


@contextmanager
def settings_store() -> Iterator[Engine]:
    """An empty SQLite database holding just the site's settings tables."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    tables = [LineblocsTable.metadata.tables[name] for name in SETTINGS_TABLES]
    LineblocsTable.metadata.create_all(engine, tables=tables)
    try:
        yield engine
    finally:
        engine.dispose()

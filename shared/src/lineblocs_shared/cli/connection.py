"""The database connection of a one-shot command: one connection, checked before any work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.settings import Settings


@contextmanager
def connected_engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        ping(engine)  # one clear line when the database is unreachable
        yield engine
    finally:
        engine.dispose()

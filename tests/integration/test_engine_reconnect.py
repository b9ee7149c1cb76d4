"""A pooled connection the server dropped costs one transient failure, then the pool recovers.

The engine does not ping on checkout (a round trip per transaction); this is what replaces it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lineblocs_shared.db import make_engine
from lineblocs_shared.reliability.errors import ErrorKind, classify


def test_a_killed_connection_is_one_transient_failure_then_a_fresh_connection(
    empty_mysql_url: str,
) -> None:
    engine = make_engine(empty_mysql_url, pool_size=2)
    killer = make_engine(empty_mysql_url, pool_size=1)
    try:
        with engine.connect() as conn:  # two connections in the pool, both soon dead
            with engine.connect() as other:
                ids = [c.execute(text("SELECT CONNECTION_ID()")).scalar() for c in (conn, other)]
        with killer.connect() as conn:
            for connection_id in ids:
                conn.execute(text(f"KILL {int(connection_id or 0)}"))

        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        assert classify(failed.value) is ErrorKind.TRANSIENT

        # The failure invalidated the pool: the next checkout is a new connection, not the
        # second dead one.
        with engine.connect() as conn:
            fresh = conn.execute(text("SELECT CONNECTION_ID()")).scalar()
        assert fresh not in ids
    finally:
        engine.dispose()
        killer.dispose()

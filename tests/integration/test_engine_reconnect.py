"""How the MariaDB pool hands connections back and forth without extra round trips.

No ping on checkout: a pooled connection the server dropped costs one transient failure, then
the pool recovers. No ROLLBACK on return after a commit: only a connection returned with a
transaction open is rolled back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lineblocs_shared.db import make_engine
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify


def test_a_killed_connection_is_one_transient_failure_then_a_fresh_connection(
    empty_mysql_url: str,
) -> None:
    engine = make_engine(empty_mysql_url, pool_size=2)
    killer = make_engine(empty_mysql_url, pool_size=1)
    try:
        with engine.connect() as conn, engine.connect() as other:  # both soon dead
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


def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    empty_mysql_url: str,
) -> None:
    """The pool resets only connections with a transaction open: one returned with an
    uncommitted write (driver-level, past SQLAlchemy's own bookkeeping) loses it and its locks."""
    engine = make_engine(empty_mysql_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB"))
        raw = engine.raw_connection()
        cursor = raw.cursor()
        cursor.execute("INSERT INTO t VALUES (1)")  # no commit
        cursor.close()
        raw.close()  # back to the pool with the transaction open

        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar() == 0
        with engine.begin() as conn:  # no lock left behind: the same row inserts at once
            conn.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()


def test_committed_connections_go_back_without_another_round_trip(empty_mysql_url: str) -> None:
    engine = make_engine(empty_mysql_url, pool_size=1)  # one pooled connection, reused

    def rollbacks_so_far() -> int:
        with engine.connect() as conn:  # the server counts the ROLLBACKs this session got
            row = conn.execute(text("SHOW SESSION STATUS LIKE 'Com_rollback'")).one()
            conn.commit()
        return int(row[1])

    try:
        before = rollbacks_so_far()
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.commit()
        assert rollbacks_so_far() == before
    finally:
        engine.dispose()

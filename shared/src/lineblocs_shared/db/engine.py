"""Engines for the Lineblocs database.

MySQL/MariaDB sessions keep the server's STRICT_TRANS_TABLES (an INSERT that forgets a NOT NULL
column must fail, not write '' or 0 as Laravel's non-strict sessions do) and drop only
NO_ZERO_DATE / NO_ZERO_IN_DATE, which Lineblocs' '0000-00-00 00:00:00' defaults need.
Every session runs in UTC, the zone Lineblocs writes its timestamps in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pymysql.constants import SERVER_STATUS
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import PoolResetState

from lineblocs_shared.errors import DatabaseUnavailable

ZERO_DATE_MODES = frozenset({"NO_ZERO_DATE", "NO_ZERO_IN_DATE"})
REQUIRED_MODE = "STRICT_TRANS_TABLES"


def lineblocs_sql_mode(server_mode: str) -> str:
    """The session sql_mode: the server's, strict, without the zero-date bans."""
    modes = [m for m in server_mode.split(",") if m and m not in ZERO_DATE_MODES]
    if REQUIRED_MODE not in modes:
        modes.append(REQUIRED_MODE)
    return ",".join(modes)


def _configure_mysql_session(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT @@SESSION.sql_mode")
        (server_mode,) = cursor.fetchone()
        cursor.execute(
            "SET SESSION sql_mode = %s, time_zone = '+00:00'", (lineblocs_sql_mode(server_mode),)
        )
    finally:
        cursor.close()


def _rollback_if_in_transaction(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's reset on return, without the ROLLBACK round trip after every commit.

    SQLAlchemy rolls back a returned connection unconditionally (a round trip per transaction,
    five per bill). The server reports in every reply whether a transaction is open and PyMySQL
    keeps that flag; a connection SQLAlchemy already committed or rolled back has none open.
    A driver without the flag is always rolled back.
    """
    if state.terminate_only:
        return
    status = getattr(dbapi_connection, "server_status", None)
    if status is None or status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
        dbapi_connection.rollback()


def _configure_sqlite_session(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling issues BEGIN late and lets a leading SAVEPOINT commit
    # on its own; SQLAlchemy's documented fix: autocommit at the driver, BEGIN on our "begin".
    # IMMEDIATE takes the write lock up front: a read-then-write transaction would otherwise fail
    # at once (SQLITE_BUSY_SNAPSHOT) when another connection committed in between. The embedded
    # mode is one machine's demo, so serialising writers costs nothing that matters.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
    finally:
        cursor.close()


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int | None = None, echo: bool = False
) -> Engine:
    """One engine per process; MySQL gets strict UTC sessions, SQLite gets WAL and FKs.

    At most `pool_size + max_overflow` connections (overflow default: `pool_size`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _configure_sqlite_session)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        # No pre-ping: it is a round trip per checkout (five per bill). A connection the server
        # dropped fails its first statement instead, as a transient error (retried), and
        # SQLAlchemy then discards every pooled connection older than the failure.
        pool_recycle=1800,
        # READ COMMITTED avoids gap locks between concurrent billing workers.
        isolation_level="READ COMMITTED",
        pool_reset_on_return=None,  # `_rollback_if_in_transaction` resets instead
        connect_args={"connect_timeout": 5, "read_timeout": 60, "write_timeout": 60},
    )
    event.listen(engine, "connect", _configure_mysql_session)
    event.listen(engine.pool, "reset", _rollback_if_in_transaction)
    return engine


def ping(engine: Engine, *, create: bool = False) -> None:
    """Prove the database answers; raise `DatabaseUnavailable` with one clear line if not.

    A SQLite file that does not exist is refused unless `create`: connecting would create it
    empty, and a mistyped DATABASE_URL then looked like a database without our tables."""
    missing = _missing_sqlite_file(engine)
    if missing is not None and not create:
        raise DatabaseUnavailable(
            f"no SQLite database at {missing} (DATABASE_URL): create one with "
            "`lineblocs-jobs db setup`, or use the demo's (`make demo` prints its DATABASE_URL)"
        )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise DatabaseUnavailable(f"database unreachable at {where}: {reason}") from None


def _missing_sqlite_file(engine: Engine) -> Path | None:
    """The absolute path of the engine's SQLite file when there is none yet."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database).resolve()
    return None if path.exists() else path

"""Is this database at the revision of our tables this release needs? Read with one query and
no Alembic: `health`, a worker's `/readyz` and a worker's start-up check it, and importing
Alembic would cost every health probe a fifth of a second."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from lineblocs_shared.errors import SchemaError

VERSION_TABLE = "lbj_alembic_version"
# The newest migration of `lineblocs_shared/migrations/versions` (numbered 0001, 0002, …): a
# unit test keeps it equal to Alembic's head.
HEAD_REVISION = "0007"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def require_current(engine: Engine) -> str:
    """Our tables at the revision this release needs; else a one-line SchemaError saying what
    to run. A worker on a database without them would fail on every message (and its outbox
    relay on every poll) while looking healthy."""
    current = current_revision(engine)
    if current == HEAD_REVISION:
        return f"our tables at revision {current}"
    if current is None:
        raise SchemaError(
            f"our tables are missing from this database (no migration applied; this release "
            f"needs revision {HEAD_REVISION}): run `lineblocs-jobs db upgrade`"
        )
    if current > HEAD_REVISION:
        raise SchemaError(
            f"our tables are at revision {current}, unknown to this release (head "
            f"{HEAD_REVISION}): a newer release migrated this database; run that release"
        )
    raise SchemaError(
        f"our tables are at revision {current}, this release needs {HEAD_REVISION}: "
        "run `lineblocs-jobs db upgrade`"
    )

"""Alembic, driven from code: `lineblocs-jobs db upgrade` and the test fixtures call this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from lineblocs_shared.errors import SchemaError

VERSION_TABLE = "lbj_alembic_version"
SCRIPT_LOCATION = "lineblocs_shared:migrations"


def include_our_tables(name: str | None, type_: str, _parent: object) -> bool:
    """Autogenerate compares only our lbj_* tables: Lineblocs' schema is not ours to change."""
    if type_ != "table" or name is None:
        return True
    return name.startswith("lbj_") and name != VERSION_TABLE


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine, *, revision: str = "head") -> str | None:
    """Apply our migrations up to `revision`; returns the revision now in force."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def require_current(engine: Engine) -> str:
    """Our tables at the revision this release needs; else a one-line SchemaError saying what
    to run. A worker on a database without them would fail on every message (and its outbox
    relay on every poll) while looking healthy."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return f"our tables at revision {current}"
    if current is None:
        raise SchemaError(
            f"our tables are missing from this database (no migration applied; this release "
            f"needs revision {head}): run `lineblocs-jobs db upgrade`"
        )
    if current not in _known_revisions():
        raise SchemaError(
            f"our tables are at revision {current}, unknown to this release (head {head}): "
            "a newer release migrated this database; run that release"
        )
    raise SchemaError(
        f"our tables are at revision {current}, this release needs {head}: "
        "run `lineblocs-jobs db upgrade`"
    )


def _known_revisions() -> set[str]:
    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }

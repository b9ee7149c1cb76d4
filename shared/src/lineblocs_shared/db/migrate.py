"""Alembic, driven from code: `lineblocs-jobs db upgrade` and the test fixtures call this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from lineblocs_shared.db.revision import VERSION_TABLE, current_revision

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


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()

"""Our Alembic migrations create exactly what the models of our tables describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from lineblocs_shared.db import make_engine, migrate
from lineblocs_shared.models import JobsTable, LineblocsTable


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": migrate.include_our_tables,
            },
        )
        return list(compare_metadata(context, JobsTable.metadata))


def _lineblocs_columns(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    inspector = inspect(engine)
    return {
        table: [
            (c["name"], str(c["type"]), c["nullable"], c["default"])
            for c in inspector.get_columns(table)
        ]
        for table in LineblocsTable.metadata.tables
    }


@pytest.mark.integration
def test_mysql_migrations_match_the_models(lineblocs_engine: Engine) -> None:
    assert migrate.upgrade(lineblocs_engine) == migrate.head_revision()
    assert _diff(lineblocs_engine) == []


@pytest.mark.integration
def test_migrations_never_touch_lineblocs_tables(lineblocs_engine: Engine) -> None:
    before = _lineblocs_columns(lineblocs_engine)
    migrate.upgrade(lineblocs_engine)
    assert _lineblocs_columns(lineblocs_engine) == before
    ours = {t for t in inspect(lineblocs_engine).get_table_names() if t.startswith("lbj_")}
    assert ours == {"lbj_alembic_version", *JobsTable.metadata.tables}


def test_sqlite_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    migrate.upgrade(engine)
    assert _diff(engine) == []
    assert migrate.upgrade(engine) == migrate.head_revision()  # a second run is a no-op


def test_the_revision_the_health_checks_expect_is_alembics_head() -> None:
    from lineblocs_shared.db.revision import HEAD_REVISION

    assert migrate.head_revision() == HEAD_REVISION

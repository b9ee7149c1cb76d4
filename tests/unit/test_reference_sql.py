"""The committed reference SQL is what the generator makes of the committed TSVs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lineblocs_shared.db import make_engine
from lineblocs_shared.db.reference import (
    LINEBLOCS_TABLES,
    REFERENCE_SQL_PATH,
    apply_reference_schema,
    lineblocs_table_names,
    split_statements,
)
from lineblocs_shared.errors import SchemaError

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "infra/mysql/generate_reference_sql.py"


def test_generated_sql_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "lineblocs_reference.sql"

    subprocess.run([sys.executable, str(GENERATOR), "--output", str(fresh)], check=True)

    assert fresh.read_bytes() == REFERENCE_SQL_PATH.read_bytes(), (
        "infra/mysql/lineblocs_reference.sql is stale: run"
        " `python infra/mysql/generate_reference_sql.py` and commit the result"
    )


def test_reference_sql_path_is_in_the_repository() -> None:
    assert REFERENCE_SQL_PATH == REPO_ROOT / "infra/mysql/lineblocs_reference.sql"
    assert REFERENCE_SQL_PATH.is_file()


def test_the_37_tables_come_from_the_sql_file() -> None:
    assert len(LINEBLOCS_TABLES) == 37
    assert {"users", "workspaces", "users_invoices", "macro_functions"} <= LINEBLOCS_TABLES
    assert lineblocs_table_names()[0] == "users"


def test_statements_are_split_on_semicolon_newline_without_comments() -> None:
    sql = "-- header; with a semicolon\nSET a = 1;\n\nCREATE TABLE `t` (\n  `x` int\n);\n"

    assert split_statements(sql) == ["SET a = 1", "CREATE TABLE `t` (\n  `x` int\n)"]


def test_every_create_table_comes_after_the_tables_it_references() -> None:
    created: set[str] = set()
    statements = split_statements(REFERENCE_SQL_PATH.read_text(encoding="utf-8"))
    for statement in statements:
        if statement.startswith("CREATE TABLE"):
            table = statement.split("`")[1]
            referenced = {part.split("`")[1] for part in statement.split("REFERENCES ")[1:]}
            assert referenced - {table} <= created, f"{table} needs {referenced - created}"
            created.add(table)
    assert not [statement for statement in statements if "FOREIGN_KEY_CHECKS" in statement]


def test_sqlite_is_refused() -> None:
    engine = make_engine("sqlite://")

    with pytest.raises(SchemaError, match="needs a MySQL/MariaDB database, not sqlite"):
        apply_reference_schema(engine)


def test_the_models_delete_as_the_reference_schema_does() -> None:
    """The embedded (SQLite) database is created from the models: their ON DELETE must be the
    site's, or deleting a user there would cascade (or refuse) differently than on MySQL."""
    import re

    from lineblocs_shared.models import LineblocsTable

    sql = REFERENCE_SQL_PATH.read_text()
    reference = {
        (name.removesuffix(f"_{column}_foreign"), column): action or None
        for name, column, action in re.findall(
            r"CONSTRAINT `(\w+)` FOREIGN KEY \(`(\w+)`\) REFERENCES `\w+` \(`id`\)"
            r"(?: ON DELETE (CASCADE|SET NULL))?",
            sql,
        )
    }
    modeled = {
        (table.name, fk.parent.name): fk.ondelete
        for table in LineblocsTable.metadata.tables.values()
        for fk in table.foreign_keys
    }
    assert len(modeled) > 30
    mismatched = {
        key: (action, reference.get(key, "missing"))
        for key, action in modeled.items()
        if reference.get(key, "missing") != action
    }
    assert mismatched == {}

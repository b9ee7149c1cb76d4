"""Lineblocs' own tables, created from the reference schema for development and tests.

In production Lineblocs' Laravel migrations own these tables; lineblocs-jobs only reads and writes
them. `infra/mysql/lineblocs_reference.sql` (generated from infra/mysql/reference/*.tsv) recreates
the 37 tables jobs touch, exactly as a fresh Lineblocs install has them, so that `db setup` and the
integration tests can start from an empty MySQL/MariaDB database.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect

from lineblocs_shared.errors import SchemaError

# parents: db/, lineblocs_shared/, src/, shared/, then the repository root (also /app in Docker).
REFERENCE_SQL_PATH = Path(__file__).resolve().parents[4] / "infra/mysql/lineblocs_reference.sql"

# The 37 table names, read from the SQL file on first use (see __getattr__ below).
LINEBLOCS_TABLES: frozenset[str]

CREATE_TABLE_PATTERN = re.compile(r"^CREATE TABLE `(\w+)`", re.MULTILINE)
SHOWN_TABLE_NAMES = 3
# Send DDL without parameters, so that pymysql does not read a '%' in it as a placeholder.
AS_WRITTEN = {"no_parameters": True}

# Databases created before 2026 differ from a fresh install (caveats 1 and 2 of
# infra/mysql/reference/README.md):
# Lineblocs edited its create migrations in place, so old databases keep DOUBLE(8,2) money
# columns (changed 2026-04-01) and `monthly_charge_cents` (renamed 2026-02-20). Nullability and
# defaults are those of the fresh install: every money column is NOT NULL, some default to 0.
LEGACY_VARIANT_SQL: tuple[str, ...] = (
    "ALTER TABLE `users_invoices`"
    " MODIFY `cents` DOUBLE(8,2) NOT NULL,"
    " MODIFY `call_costs` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `recording_costs` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `fax_costs` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `membership_costs` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `number_costs` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `cents_collected` DOUBLE(8,2) NOT NULL DEFAULT 0.00,"
    " MODIFY `cents_including_taxes` DOUBLE(8,2) NOT NULL,"
    " MODIFY `cents_taxes` DOUBLE(8,2) NOT NULL",
    "ALTER TABLE `users_debits` MODIFY `cents` DOUBLE(8,2) NOT NULL",
    "ALTER TABLE `users_credits` MODIFY `cents` DOUBLE(8,2) NOT NULL",
    "ALTER TABLE `users_invoices_line_items` MODIFY `cents` DOUBLE(8,2) NOT NULL DEFAULT 0.00",
    # CHANGE keeps the column's position, as the old create migration had it.
    "ALTER TABLE `service_plans`"
    " CHANGE `monthly_cost_cents` `monthly_charge_cents` INT(11) NOT NULL DEFAULT 0",
)


def split_statements(sql: str) -> list[str]:
    """The file's statements: each ends with ';' and a newline; '--' lines are comments."""
    statements = []
    for chunk in sql.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        statement = "\n".join(lines).strip()
        if statement:
            statements.append(statement)
    return statements


@cache
def _reference_statements(sql_path: Path) -> tuple[str, ...]:
    return tuple(split_statements(sql_path.read_text(encoding="utf-8")))


@cache
def lineblocs_table_names(sql_path: Path = REFERENCE_SQL_PATH) -> tuple[str, ...]:
    """The tables the reference SQL creates, in its (foreign-key) order."""
    return tuple(
        match.group(1)
        for statement in _reference_statements(sql_path)
        if (match := CREATE_TABLE_PATTERN.match(statement))
    )


def __getattr__(name: str) -> object:
    # LINEBLOCS_TABLES is computed on first access so importing this module never reads a file.
    if name == "LINEBLOCS_TABLES":
        return frozenset(lineblocs_table_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def existing_lineblocs_tables(engine: Engine, *, sql_path: Path = REFERENCE_SQL_PATH) -> set[str]:
    """The Lineblocs tables this database already has."""
    return set(inspect(engine).get_table_names()) & set(lineblocs_table_names(sql_path))


def _refuse_unless_mysql(engine: Engine, what: str) -> None:
    # The embedded SQLite mode creates its tables from the models, not from MySQL DDL.
    if engine.dialect.name not in ("mysql", "mariadb"):
        raise SchemaError(
            f"{what} needs a MySQL/MariaDB database, not {engine.dialect.name}:"
            " the embedded mode creates its tables itself"
        )


def _describe_existing(engine: Engine, existing: set[str], sql_path: Path) -> str:
    in_order = [name for name in lineblocs_table_names(sql_path) if name in existing]
    shown = ", ".join(in_order[:SHOWN_TABLE_NAMES])
    more = f", … {len(in_order)} total" if len(in_order) > SHOWN_TABLE_NAMES else ""
    return (
        f"database {engine.url.database} already has Lineblocs tables ({shown}{more});"
        " `db setup` only initialises an empty database"
        " — run `lineblocs-jobs db upgrade` for our own tables"
    )


def _run_keeping_session(conn: Connection, statements: tuple[str, ...]) -> None:
    """Run the statements without leaking the sql_mode and time_zone the SQL file sets into
    the pool: restore them on success, discard the connection on failure."""
    sql_mode, time_zone = conn.exec_driver_sql(
        "SELECT @@SESSION.sql_mode, @@SESSION.time_zone"
    ).one()
    try:
        for statement in statements:
            conn.exec_driver_sql(statement, execution_options=AS_WRITTEN)
    except BaseException:
        conn.invalidate()
        raise
    conn.exec_driver_sql("SET SESSION sql_mode = %s, time_zone = %s", (sql_mode, time_zone))


def apply_reference_schema(engine: Engine, *, sql_path: Path = REFERENCE_SQL_PATH) -> int:
    """Create the Lineblocs tables in an empty database; return how many were created.

    Refuses (SchemaError) if any of them exists: this only initialises a database, it never
    changes one that Lineblocs or an earlier run already set up. MySQL commits each CREATE TABLE
    at once, so a failure half-way leaves the tables made so far.
    """
    _refuse_unless_mysql(engine, "creating the Lineblocs reference schema")
    existing = existing_lineblocs_tables(engine, sql_path=sql_path)
    if existing:
        raise SchemaError(_describe_existing(engine, existing, sql_path))
    with engine.begin() as conn:
        _run_keeping_session(conn, _reference_statements(sql_path))
    return len(lineblocs_table_names(sql_path))


def apply_legacy_variant(engine: Engine) -> None:
    """Turn a fresh reference schema into the pre-2026 variant (DOUBLE money columns, old name)."""
    _refuse_unless_mysql(engine, "the legacy Lineblocs schema variant")
    with engine.begin() as conn:
        for statement in LEGACY_VARIANT_SQL:
            conn.exec_driver_sql(statement, execution_options=AS_WRITTEN)

"""The reference SQL recreates Lineblocs' schema exactly, as information_schema reports it."""

from __future__ import annotations

import csv
from collections.abc import Iterable

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from lineblocs_shared.db.reference import (
    REFERENCE_SQL_PATH,
    apply_legacy_variant,
    apply_reference_schema,
    existing_lineblocs_tables,
)
from lineblocs_shared.errors import SchemaError

pytestmark = pytest.mark.integration

REFERENCE_DIR = REFERENCE_SQL_PATH.parent / "reference"
ER_NO_DEFAULT_FOR_FIELD = 1364

# (table, column, mysql_type, nullable, default, extra): the TSV row without `added_by`.
ColumnRow = tuple[str, str, str, str, str, str]
# (table, index_name, unique, columns)
IndexRow = tuple[str, str, str, str]


def read_tsv(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


COLUMNS_TSV = read_tsv("lineblocs-columns.tsv")
INDEXES_TSV = read_tsv("lineblocs-indexes.tsv")


def expected_columns() -> list[ColumnRow]:
    return [
        (r["table"], r["column"], r["mysql_type"], r["nullable"], r["default"], r["extra"])
        for r in COLUMNS_TSV
    ]


def expected_indexes() -> list[IndexRow]:
    return [(r["table"], r["index_name"], r["unique"], r["columns"]) for r in INDEXES_TSV]


def default_in_tsv_notation(column_default: str | None) -> str:
    # MariaDB (10.2.7+) already reports defaults as SQL: strings quoted, numbers bare, and the
    # four letters NULL for DEFAULT NULL. SQL NULL means "no default" (NOT NULL columns, TEXT).
    return "NONE" if column_default is None else column_default


def foreign_keys_by_column(conn: Connection) -> dict[tuple[str, str], str]:
    """`FK->table.col ON DELETE rule` for each FK column, checking the constraint's name."""
    rows = conn.execute(
        text(
            "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME,"
            "       k.REFERENCED_COLUMN_NAME, r.DELETE_RULE"
            " FROM information_schema.KEY_COLUMN_USAGE k"
            " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
            "   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA"
            "  AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
            " WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL"
        )
    ).all()
    foreign_keys = {}
    for table, column, name, ref_table, ref_column, delete_rule in rows:
        assert name == f"{table}_{column}_foreign"
        foreign_keys[(table, column)] = f"FK->{ref_table}.{ref_column} ON DELETE {delete_rule}"
    return foreign_keys


def actual_columns(conn: Connection) -> list[ColumnRow]:
    """information_schema.COLUMNS in the TSV's notation, in table and ordinal order."""
    foreign_keys = foreign_keys_by_column(conn)
    rows = conn.execute(
        text(
            "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT,"
            "       c.COLUMN_KEY, c.EXTRA"
            " FROM information_schema.COLUMNS c"
            " WHERE c.TABLE_SCHEMA = DATABASE()"
            " ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
        )
    ).all()
    result: list[ColumnRow] = []
    for table, column, column_type, nullable, default, key, extra in rows:
        # Anything in EXTRA besides auto_increment (say an ON UPDATE clause) must show in a diff.
        extras = [key, *extra.split(","), foreign_keys.get((table, column), "")]
        result.append(
            (
                table,
                column,
                column_type,
                nullable,
                default_in_tsv_notation(default),
                "; ".join(item.strip() for item in extras if item.strip()),
            )
        )
    return result


def actual_indexes(conn: Connection) -> list[IndexRow]:
    rows = conn.execute(
        text(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART"
            " FROM information_schema.STATISTICS"
            " WHERE TABLE_SCHEMA = DATABASE()"
            " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        )
    ).all()
    columns_of: dict[tuple[str, str, str], list[str]] = {}
    for table, index, non_unique, column, sub_part in rows:
        # A prefix index would show as column(length), so that it cannot pass for a full one.
        name = column if sub_part is None else f"{column}({sub_part})"
        unique = "NO" if int(non_unique) else "YES"
        columns_of.setdefault((table, index, unique), []).append(name)
    return [(*key, ",".join(columns)) for key, columns in columns_of.items()]


def assert_same_rows(
    what: str, expected: Iterable[tuple[str, ...]], actual: Iterable[tuple[str, ...]]
) -> None:
    """Compare as sets; on failure list what is missing and what is unexpected, one per line."""
    expected_set, actual_set = set(expected), set(actual)
    missing = sorted(expected_set - actual_set)
    unexpected = sorted(actual_set - expected_set)
    if missing or unexpected:
        lines = [f"{what}: information_schema differs from the TSV"]
        lines += ["  missing:    " + " | ".join(row) for row in missing]
        lines += ["  unexpected: " + " | ".join(row) for row in unexpected]
        pytest.fail("\n".join(lines))


def column_order(rows: Iterable[ColumnRow]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = {}
    for row in rows:
        order.setdefault(row[0], []).append(row[1])
    return order


def schema_snapshot(conn: Connection) -> list[tuple[str, ...]]:
    return [
        tuple(row)
        for row in conn.execute(
            text(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
            )
        )
    ]


def test_reference_schema_reproduces_the_tsvs(empty_mysql_engine: Engine) -> None:
    created = apply_reference_schema(empty_mysql_engine)

    assert created == 37
    assert existing_lineblocs_tables(empty_mysql_engine) == {row["table"] for row in COLUMNS_TSV}
    with empty_mysql_engine.connect() as conn:
        columns = actual_columns(conn)
        assert_same_rows("columns", expected_columns(), columns)
        assert column_order(columns) == column_order(expected_columns())
        assert_same_rows("indexes", expected_indexes(), actual_indexes(conn))


def test_applying_twice_is_refused_and_changes_nothing(empty_mysql_engine: Engine) -> None:
    apply_reference_schema(empty_mysql_engine)
    with empty_mysql_engine.connect() as conn:
        before = schema_snapshot(conn)

    with pytest.raises(SchemaError, match=r"already has Lineblocs tables \(users, .* 37 total\)"):
        apply_reference_schema(empty_mysql_engine)

    with empty_mysql_engine.connect() as conn:
        assert schema_snapshot(conn) == before


def test_one_existing_lineblocs_table_is_enough_to_refuse(empty_mysql_engine: Engine) -> None:
    with empty_mysql_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE `calls` (`id` int PRIMARY KEY)")

    with pytest.raises(SchemaError, match=r"already has Lineblocs tables \(calls\)"):
        apply_reference_schema(empty_mysql_engine)

    assert existing_lineblocs_tables(empty_mysql_engine) == {"calls"}


def test_applying_restores_the_session_settings_of_the_pooled_connection(
    empty_mysql_engine: Engine,
) -> None:
    with empty_mysql_engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT @@SESSION.sql_mode, @@SESSION.time_zone").one()

    apply_reference_schema(empty_mysql_engine)

    with empty_mysql_engine.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT @@SESSION.sql_mode, @@SESSION.time_zone").one() == before
        )


def dummy_value(mysql_type: str, column: str) -> object:
    """A value the column accepts; strings carry the column's name to satisfy UNIQUE keys."""
    if mysql_type.startswith(("varchar", "text", "mediumtext")):
        return f"test-{column}"
    if mysql_type.startswith(("datetime", "timestamp")):
        return "2026-01-01 00:00:00"
    if mysql_type.startswith("enum("):
        return mysql_type.split("'")[1]
    return 1


def insert_row(
    conn: Connection, table: str, given: dict[str, object], *, omit: frozenset[str] = frozenset()
) -> int:
    """Insert `given` plus a dummy value for each other column that has no default."""
    values = dict(given)
    for row in COLUMNS_TSV:
        required = row["default"] == "NONE" and "auto_increment" not in row["extra"]
        if row["table"] == table and required and row["column"] not in values.keys() | omit:
            values[row["column"]] = dummy_value(row["mysql_type"], row["column"])
    columns = ", ".join(f"`{name}`" for name in values)
    placeholders = ", ".join(f":{name}" for name in values)
    result = conn.execute(
        text(f"INSERT INTO `{table}` ({columns}) VALUES ({placeholders})"), values
    )
    return int(result.lastrowid)


def test_strict_mode_rejects_a_missing_column_and_zero_dates_are_accepted(
    empty_mysql_engine: Engine,
) -> None:
    apply_reference_schema(empty_mysql_engine)
    with empty_mysql_engine.begin() as conn:
        # created_at is left to its '0000-00-00 00:00:00' default, which NO_ZERO_DATE would refuse.
        user_id = insert_row(conn, "users", {})
        workspace_id = insert_row(conn, "workspaces", {"creator_id": user_id})
        created_at = conn.execute(
            text("SELECT CAST(created_at AS CHAR) FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
        assert created_at == "0000-00-00 00:00:00"

    with pytest.raises(OperationalError) as failure, empty_mysql_engine.begin() as conn:
        insert_row(
            conn,
            "users_invoices",
            {"user_id": user_id, "workspace_id": workspace_id},
            omit=frozenset({"source"}),
        )
    assert failure.value.orig is not None
    assert failure.value.orig.args[0] == ER_NO_DEFAULT_FOR_FIELD
    assert "source" in str(failure.value.orig)


# Caveat 1 of infra/mysql/reference/README.md: these money columns are DOUBLE(8,2) in
# pre-2026 databases.
LEGACY_MONEY_COLUMNS = {
    ("users_invoices", name)
    for name in (
        "cents",
        "call_costs",
        "recording_costs",
        "fax_costs",
        "membership_costs",
        "number_costs",
        "cents_collected",
        "cents_including_taxes",
        "cents_taxes",
    )
} | {("users_debits", "cents"), ("users_credits", "cents"), ("users_invoices_line_items", "cents")}


def legacy_expected_columns() -> list[ColumnRow]:
    """The TSV as an old database has it: DOUBLE money columns (0 reads 0.00), the old name."""
    rows = []
    for table, column, mysql_type, nullable, default, extra in expected_columns():
        if (table, column) in LEGACY_MONEY_COLUMNS:
            mysql_type, default = "double(8,2)", "0.00" if default == "0" else default
        if (table, column) == ("service_plans", "monthly_cost_cents"):
            column = "monthly_charge_cents"
        rows.append((table, column, mysql_type, nullable, default, extra))
    return rows


def test_legacy_variant_has_double_money_columns_and_the_old_plan_column(
    empty_mysql_engine: Engine,
) -> None:
    apply_reference_schema(empty_mysql_engine)

    apply_legacy_variant(empty_mysql_engine)

    with empty_mysql_engine.connect() as conn:
        columns = actual_columns(conn)
    facts = {(row[0], row[1]): row[2:5] for row in columns}
    assert facts[("users_invoices", "cents")] == ("double(8,2)", "NO", "NONE")
    assert facts[("service_plans", "monthly_charge_cents")] == ("int(11)", "NO", "0")
    # Nothing else changed: not nullability, not defaults, not the column order.
    assert_same_rows("legacy columns", legacy_expected_columns(), columns)
    assert column_order(columns) == column_order(legacy_expected_columns())

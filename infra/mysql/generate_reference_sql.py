"""Write infra/mysql/lineblocs_reference.sql from the schema facts in infra/mysql/reference/.

    python infra/mysql/generate_reference_sql.py [--output PATH]

The TSVs describe the 37 Lineblocs tables jobs touch, as a fresh run of Lineblocs' migrations
leaves them. lineblocs-columns.tsv has one row per column in ordinal order; its `default` is
NONE (NOT NULL, no default), NULL (DEFAULT NULL) or an SQL literal; its `extra` lists the key,
auto_increment and `FK->table.column ON DELETE CASCADE|SET NULL|RESTRICT` (each FK named
<table>_<column>_foreign). lineblocs-indexes.tsv names every index, PRIMARY and the *_foreign
ones included. The output creates the tables in foreign-key order, so FOREIGN_KEY_CHECKS can stay
on. Standard library only: it runs without the project's venv.
"""

from __future__ import annotations

import argparse
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS_TSV = HERE / "reference" / "lineblocs-columns.tsv"
INDEXES_TSV = HERE / "reference" / "lineblocs-indexes.tsv"
DEFAULT_OUTPUT = HERE / "lineblocs_reference.sql"

# Lineblocs' timestamps() columns default to '0000-00-00 00:00:00', which NO_ZERO_DATE and
# NO_ZERO_IN_DATE (MySQL 8's default) reject; strict mode itself is kept.
SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
# Laravel 5.1 creates its tables in 'utf8' (utf8mb3) with utf8_unicode_ci.
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci"

# workspaces.outbound_macro_id -> macro_functions and macro_functions.workspace_id -> workspaces
# form the schema's one cycle: this FK is added by ALTER TABLE once both tables exist.
DEFERRED_FOREIGN_KEYS = frozenset({("workspaces", "outbound_macro_id")})

FOREIGN_KEY_PATTERN = re.compile(r"^FK->(\w+)\.(\w+) ON DELETE (CASCADE|SET NULL|RESTRICT)$")


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str
    on_delete: str

    @property
    def name(self) -> str:
        return f"{self.table}_{self.column}_foreign"


@dataclass(frozen=True)
class Column:
    name: str
    mysql_type: str
    nullable: bool
    default: str  # NONE, NULL or an SQL literal, as in the TSV
    auto_increment: bool


@dataclass(frozen=True)
class Index:
    name: str
    unique: bool
    columns: tuple[str, ...]


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)


def quote(identifier: str) -> str:
    """Back-quote every identifier: Lineblocs uses `from`, `to`, `key`, `rank`, `primary`..."""
    return f"`{identifier}`"


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def parse_foreign_key(table: str, column: str, extra_item: str) -> ForeignKey | None:
    match = FOREIGN_KEY_PATTERN.match(extra_item)
    if match is None:
        return None
    ref_table, ref_column, on_delete = match.groups()
    return ForeignKey(table, column, ref_table, ref_column, on_delete)


def load_tables(columns_tsv: Path, indexes_tsv: Path) -> dict[str, Table]:
    """The tables in the columns TSV's order, each with its columns in ordinal order."""
    tables: dict[str, Table] = {}
    for row in read_tsv(columns_tsv):
        table = tables.setdefault(row["table"], Table(row["table"]))
        extra = [item.strip() for item in row["extra"].split(";") if item.strip()]
        table.columns.append(
            Column(
                name=row["column"],
                mysql_type=row["mysql_type"],
                nullable=row["nullable"] == "YES",
                default=row["default"],
                auto_increment="auto_increment" in extra,
            )
        )
        for item in extra:
            foreign_key = parse_foreign_key(row["table"], row["column"], item)
            if foreign_key is not None:
                table.foreign_keys.append(foreign_key)
    for row in read_tsv(indexes_tsv):
        tables[row["table"]].indexes.append(
            Index(row["index_name"], row["unique"] == "YES", tuple(row["columns"].split(",")))
        )
    return tables


def creation_order(tables: dict[str, Table]) -> list[Table]:
    """Every table after the tables it references, else in TSV order (a stable topological sort)."""
    created: set[str] = set()
    ordered: list[Table] = []
    while len(ordered) < len(tables):
        ready = next(
            (
                table
                for table in tables.values()
                if table.name not in created and references_of(table) <= created
            ),
            None,
        )
        if ready is None:
            stuck = sorted(set(tables) - created)
            raise SystemExit(f"foreign-key cycle among {stuck}: add it to DEFERRED_FOREIGN_KEYS")
        created.add(ready.name)
        ordered.append(ready)
    return ordered


def references_of(table: Table) -> set[str]:
    """Tables that must exist before this one (self-references and deferred FKs need none)."""
    return {
        fk.ref_table
        for fk in table.foreign_keys
        if fk.ref_table != table.name and (fk.table, fk.column) not in DEFERRED_FOREIGN_KEYS
    }


def column_sql(column: Column) -> str:
    parts = [quote(column.name), column.mysql_type, "NULL" if column.nullable else "NOT NULL"]
    if column.default != "NONE":
        parts.append(f"DEFAULT {column.default}")
    if column.auto_increment:
        parts.append("AUTO_INCREMENT")
    return " ".join(parts)


def index_sql(index: Index) -> str:
    columns = ", ".join(quote(name) for name in index.columns)
    if index.name == "PRIMARY":
        return f"PRIMARY KEY ({columns})"
    kind = "UNIQUE KEY" if index.unique else "KEY"
    return f"{kind} {quote(index.name)} ({columns})"


def foreign_key_sql(fk: ForeignKey) -> str:
    # RESTRICT is what Laravel's missing onDelete() means; the server reports it as RESTRICT.
    on_delete = "" if fk.on_delete == "RESTRICT" else f" ON DELETE {fk.on_delete}"
    return (
        f"CONSTRAINT {quote(fk.name)} FOREIGN KEY ({quote(fk.column)})"
        f" REFERENCES {quote(fk.ref_table)} ({quote(fk.ref_column)}){on_delete}"
    )


def create_table_sql(table: Table) -> str:
    # The *_foreign indexes are declared as keys, so the server reuses them for the FKs.
    definitions = [column_sql(column) for column in table.columns]
    definitions += [index_sql(index) for index in table.indexes]
    definitions += [
        foreign_key_sql(fk)
        for fk in table.foreign_keys
        if (fk.table, fk.column) not in DEFERRED_FOREIGN_KEYS
    ]
    body = ",\n".join(f"  {definition}" for definition in definitions)
    return f"CREATE TABLE {quote(table.name)} (\n{body}\n) {TABLE_OPTIONS}"


def deferred_foreign_key_sql(tables: dict[str, Table]) -> list[str]:
    return [
        f"ALTER TABLE {quote(fk.table)} ADD {foreign_key_sql(fk)}"
        for table in tables.values()
        for fk in table.foreign_keys
        if (fk.table, fk.column) in DEFERRED_FOREIGN_KEYS
    ]


HEADER = """\
-- Lineblocs reference schema: the {count} Lineblocs tables lineblocs-jobs uses, as a fresh
-- install of Lineblocs' migrations leaves them.
-- GENERATED from infra/mysql/reference/*.tsv -- do not edit by hand. To regenerate:
--     python infra/mysql/generate_reference_sql.py
-- Statements end with ';' and a newline, tables come in foreign-key order (no
-- FOREIGN_KEY_CHECKS=0), and the one FK cycle is closed by the ALTER TABLE at the end.
"""


def render(tables: dict[str, Table]) -> str:
    statements = [
        f"SET SESSION sql_mode = '{SQL_MODE}'",
        "SET time_zone = '+00:00'",
        *(create_table_sql(table) for table in creation_order(tables)),
        *deferred_foreign_key_sql(tables),
    ]
    return HEADER.format(count=len(tables)) + "".join(f"\n{sql};\n" for sql in statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    tables = load_tables(COLUMNS_TSV, INDEXES_TSV)
    args.output.write_text(render(tables), encoding="utf-8")
    print(f"wrote {len(tables)} tables to {args.output}")


if __name__ == "__main__":
    main()

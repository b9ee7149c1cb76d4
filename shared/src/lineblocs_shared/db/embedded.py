"""The embedded (SQLite) database: the Lineblocs tables the jobs use, created from the models."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from lineblocs_shared.errors import SchemaError
from lineblocs_shared.models import LineblocsTable


def create_embedded_schema(engine: Engine) -> int:
    """Create every modeled Lineblocs table in an empty SQLite database; returns the count."""
    if engine.dialect.name != "sqlite":
        raise SchemaError("the embedded schema is for SQLite; MySQL gets the reference schema")
    existing = set(inspect(engine).get_table_names()) & set(LineblocsTable.metadata.tables)
    if existing:
        raise SchemaError(
            f"database already has Lineblocs tables ({', '.join(sorted(existing)[:5])}, …); "
            "`db setup` only initialises an empty database — use `db upgrade`"
        )
    LineblocsTable.metadata.create_all(engine)
    return len(LineblocsTable.metadata.tables)

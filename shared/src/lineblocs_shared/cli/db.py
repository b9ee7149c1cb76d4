"""`lineblocs-jobs db …`: create the reference schema, migrate our tables, inspect a database."""

from __future__ import annotations

import typer

from lineblocs_shared.db import make_engine, ping
from lineblocs_shared.db import migrate as migrations
from lineblocs_shared.db.embedded import create_embedded_schema
from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.db.reference import apply_reference_schema
from lineblocs_shared.settings import load_settings

app = typer.Typer(no_args_is_help=True, help="Database set-up and migrations.")


@app.command("setup")
def setup() -> None:
    """Create the Lineblocs schema in an EMPTY database, then our own tables.

    MySQL gets the 37-table reference schema (infra/mysql/lineblocs_reference.sql); the embedded
    SQLite database gets the tables the jobs use. A database that already holds Lineblocs tables
    is refused untouched: use `db upgrade` there.
    """
    settings = load_settings()
    engine = make_engine(settings.database_url)
    ping(engine, create=True)
    if settings.uses_embedded_database:
        created = create_embedded_schema(engine)
    else:
        created = apply_reference_schema(engine)
    revision = migrations.upgrade(engine)
    typer.echo(f"created {created} Lineblocs tables; our tables at revision {revision}")


@app.command("upgrade")
def upgrade() -> None:
    """Apply the migrations of our own lbj_* tables (never touches Lineblocs' tables)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    ping(engine)
    revision = migrations.upgrade(engine)
    typer.echo(f"our tables at revision {revision}")


@app.command("check")
def check() -> None:
    """Report the schema variant and any column our models need that the database lacks."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    ping(engine)
    probe = probe_schema(engine)
    typer.echo(f"plan price column: {probe.plan_monthly_price_column}")
    typer.echo(
        f"our tables at revision {migrations.current_revision(engine)} "
        f"(head {migrations.head_revision()})"
    )
    missing = probe.missing_mapped_columns()
    for table, columns in missing.items():
        typer.echo(f"missing in {table}: {', '.join(columns)}")
    if missing:
        raise typer.Exit(1)
    typer.echo("every mapped column is present")

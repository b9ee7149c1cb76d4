"""Alembic environment for our own `lbj_*` tables only (Lineblocs' tables are not ours)."""

from __future__ import annotations

from alembic import context

from lineblocs_shared.db.migrate import VERSION_TABLE, include_our_tables
from lineblocs_shared.models import JobsTable

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=JobsTable.metadata,
    version_table=VERSION_TABLE,
    include_name=include_our_tables,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

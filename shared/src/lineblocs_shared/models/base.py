"""Declarative bases: Lineblocs' tables and our own tables live in separate metadata.

Alembic only ever sees `JobsTable.metadata` (our `lbj_*` tables); Lineblocs' schema belongs to
Lineblocs and is never altered by us.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, text
from sqlmodel import Field, SQLModel

from lineblocs_shared.db.types import UTCDateTime

ZERO_DEFAULT = text("'0000-00-00 00:00:00'")


def utcnow() -> datetime:
    return datetime.now(UTC)


class LineblocsTable(SQLModel):
    """Base of every Lineblocs table model (the columns the jobs need, names as in MySQL)."""

    metadata = MetaData()


class JobsTable(SQLModel):
    """Base of our own tables, created by Alembic migrations."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def timestamp_field(*, nullable: bool = False) -> Any:
    """Laravel `timestamps()` column: NOT NULL DEFAULT '0000-00-00 00:00:00', set by us to now."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": ZERO_DEFAULT},
    )

"""Dead letters keep the raw body of a message refused before it could be read.

A body that is not JSON, not a message, or too large never becomes a Dramatiq message: its
record keeps its first bytes (secrets masked) and its length, so an operator can see what came.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lbj_dead_letters") as batch:
        batch.add_column(sa.Column("raw_body", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("body_length", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lbj_dead_letters") as batch:
        batch.drop_column("body_length")
        batch.drop_column("raw_body")

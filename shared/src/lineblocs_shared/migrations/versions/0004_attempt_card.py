"""Payment attempts keep the customer and payment method they charge.

A resumed attempt must send what its first request sent: the same idempotency key with other
parameters is refused by Stripe, and a search by customer would look at the wrong one. Rows
written before this revision have NULLs and resume with the workspace's current card.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lbj_payment_attempts") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(191), nullable=True))
        batch.add_column(sa.Column("payment_method_id", sa.String(191), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lbj_payment_attempts") as batch:
        batch.drop_column("payment_method_id")
        batch.drop_column("customer_id")

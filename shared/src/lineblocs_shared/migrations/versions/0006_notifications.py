"""The notification ledger: one row per e-mail the jobs mean to send, claimed before sending;
and the unsubscribes from unsolicited mails.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite numbers only an INTEGER PRIMARY KEY by itself.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lbj_notifications",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("dedupe_key", sa.String(191), nullable=False),
        sa.Column("message_id", sa.String(191), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(191), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=True),
        sa.Column("provider_id", sa.String(191), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("source_message_id", sa.String(64), nullable=True),
        sa.Column("resend_of", BIG_ID, nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_notifications"),
        sa.UniqueConstraint("dedupe_key", name="uq_lbj_notifications_dedupe_key"),
        **MYSQL,
    )
    op.create_index("ix_lbj_notifications_state", "lbj_notifications", ["state"])
    op.create_index(
        "ix_lbj_notifications_kind_created_at", "lbj_notifications", ["kind", "created_at"]
    )
    op.create_index(
        "ix_lbj_notifications_state_updated_at", "lbj_notifications", ["state", "updated_at"]
    )
    op.create_table(
        "lbj_notification_optouts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_notification_optouts"),
        sa.UniqueConstraint("user_id", "kind", name="uq_lbj_notification_optouts_user_id_kind"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("lbj_notification_optouts")
    op.drop_table("lbj_notifications")

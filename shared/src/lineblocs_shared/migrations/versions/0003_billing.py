"""Billing: one row per (cycle, workspace, period) ever, and every payment attempt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite numbers only an INTEGER PRIMARY KEY by itself.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lbj_billing_periods",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("cycle", sa.String(8), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("amount_due_cents", sa.Integer(), nullable=False),
        sa.Column("dunning_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_billing_periods"),
        sa.UniqueConstraint(
            "cycle",
            "workspace_id",
            "period_start",
            name="uq_lbj_billing_periods_cycle_workspace_id_period_start",
        ),
        **MYSQL,
    )
    op.create_index(
        "ix_lbj_billing_periods_state_next_attempt_at",
        "lbj_billing_periods",
        ["state", "next_attempt_at"],
    )
    op.create_index(
        "ix_lbj_billing_periods_subscription_id", "lbj_billing_periods", ["subscription_id"]
    )

    op.create_table(
        "lbj_payment_attempts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("billing_period_id", BIG_ID, nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("attempt_key", sa.String(96), nullable=False),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("gateway_payment_id", sa.String(191), nullable=True),
        sa.Column("decline_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_payment_attempts"),
        sa.ForeignKeyConstraint(
            ["billing_period_id"],
            ["lbj_billing_periods.id"],
            name="fk_lbj_payment_attempts_billing_period_id_lbj_billing_periods",
        ),
        sa.UniqueConstraint("attempt_key", name="uq_lbj_payment_attempts_attempt_key"),
        sa.UniqueConstraint(
            "billing_period_id",
            "attempt_no",
            name="uq_lbj_payment_attempts_billing_period_id_attempt_no",
        ),
        **MYSQL,
    )
    op.create_index("ix_lbj_payment_attempts_state", "lbj_payment_attempts", ["state"])


def downgrade() -> None:
    op.drop_table("lbj_payment_attempts")
    op.drop_table("lbj_billing_periods")

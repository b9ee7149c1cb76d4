"""Reliability core: dead letters, transactional outbox, processed events, periodic claims.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite numbers only an INTEGER PRIMARY KEY by itself.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("lbj_job_runs") as batch:
        batch.add_column(sa.Column("scheduled_for", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(191), nullable=True))
        batch.create_index(
            "ix_lbj_job_runs_job_scheduled_for", ["job", "scheduled_for"], unique=False
        )

    op.create_table(
        "lbj_dead_letters",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("queue_name", sa.String(96), nullable=False),
        sa.Column("actor_name", sa.String(96), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("kwargs", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("exception_class", sa.String(191), nullable=True),
        sa.Column("exception_text", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replay_count", sa.Integer(), nullable=False),
        sa.Column("replayed_at", sa.DateTime(), nullable=True),
        sa.Column("replay_message_id", sa.String(64), nullable=True),
        sa.Column("alerted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_dead_letters"),
        sa.UniqueConstraint("message_id", name="uq_lbj_dead_letters_message_id"),
        **MYSQL,
    )
    op.create_index(
        "ix_lbj_dead_letters_queue_name_last_seen_at",
        "lbj_dead_letters",
        ["queue_name", "last_seen_at"],
    )
    op.create_index("ix_lbj_dead_letters_actor_name", "lbj_dead_letters", ["actor_name"])
    op.create_index("ix_lbj_dead_letters_status", "lbj_dead_letters", ["status"])

    op.create_table(
        "lbj_outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("queue_name", sa.String(96), nullable=False),
        sa.Column("actor_name", sa.String(96), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_outbox"),
        sa.UniqueConstraint("event_id", name="uq_lbj_outbox_event_id"),
        **MYSQL,
    )
    op.create_index("ix_lbj_outbox_published_at_id", "lbj_outbox", ["published_at", "id"])

    op.create_table(
        "lbj_processed_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(96), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lbj_processed_events"),
        sa.UniqueConstraint(
            "consumer", "event_id", name="uq_lbj_processed_events_consumer_event_id"
        ),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("lbj_processed_events")
    op.drop_table("lbj_outbox")
    op.drop_table("lbj_dead_letters")
    with op.batch_alter_table("lbj_job_runs") as batch:
        batch.drop_index("ix_lbj_job_runs_job_scheduled_for")
        batch.drop_column("claimed_by")
        batch.drop_column("scheduled_for")

"""create tasks and idempotency keys

Revision ID: 0001
Revises:
Create Date: 2026-11-26 21:59:21.773558
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="idempotency_keys_pkey"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", sa.BIGINT(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("completed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("cardinality(tags) <= 20", name="tasks_tags_count"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 255", name="tasks_title_length"),
        sa.CheckConstraint("priority BETWEEN 0 AND 2", name="tasks_priority_range"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tasks_user_created", "tasks", ["user_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_tasks_user_due_asc",
        "tasks",
        ["user_id", sa.literal_column("coalesce(due_at, 'infinity'::timestamptz)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_tasks_user_due_desc",
        "tasks",
        ["user_id", sa.literal_column("coalesce(due_at, '-infinity'::timestamptz)"), "id"],
        unique=False,
    )
    op.create_index("ix_tasks_user_priority", "tasks", ["user_id", "priority", "id"], unique=False)
    op.create_index("ix_tasks_user_title", "tasks", ["user_id", sa.literal_column("lower(title)"), "id"], unique=False)
    op.create_index("ix_tasks_user_updated", "tasks", ["user_id", "updated_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tasks_user_updated", table_name="tasks")
    op.drop_index("ix_tasks_user_title", table_name="tasks")
    op.drop_index("ix_tasks_user_priority", table_name="tasks")
    op.drop_index("ix_tasks_user_due_desc", table_name="tasks")
    op.drop_index("ix_tasks_user_due_asc", table_name="tasks")
    op.drop_index("ix_tasks_user_created", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")

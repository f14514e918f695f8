"""The tasks table: its columns are TaskRecord's fields, its constraints built from the limits."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Table,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlmodel import SQLModel

from shared.models.limits import RECURRENCE_MAX, TAGS_MAX, TITLE_MAX
from shared.models.lists import lists
from shared.models.priority import PRIORITY_RANK
from shared.models.task import COLUMNS

RECURRENCE_NEEDS_DUE_AT = "tasks_recurrence_needs_due_at"  # the CHECK a write without a due date breaks

tasks = Table(
    "tasks",
    SQLModel.metadata,
    *(Column(name, col.type, **col.options) for name, col in COLUMNS.items()),
    CheckConstraint(
        f"priority BETWEEN {min(PRIORITY_RANK.values())} AND {max(PRIORITY_RANK.values())}",
        name="tasks_priority_range",
    ),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="tasks_title_length"),
    CheckConstraint(f"cardinality(tags) <= {TAGS_MAX}", name="tasks_tags_count"),
    CheckConstraint(f"char_length(recurrence) <= {RECURRENCE_MAX}", name="tasks_recurrence_length"),
    CheckConstraint("recurrence_basis IN ('due', 'completion')", name="tasks_recurrence_basis"),
    CheckConstraint("recurrence IS NULL OR due_at IS NOT NULL", name=RECURRENCE_NEEDS_DUE_AT),
    # Links include the owner: a task cannot name another user's list or parent, whatever a query does.
    UniqueConstraint("user_id", "id", name="tasks_user_id_id_key"),
    ForeignKeyConstraint(
        ["user_id", "list_id"], [lists.c.user_id, lists.c.id], name="tasks_list_fkey", ondelete="CASCADE"
    ),
    ForeignKeyConstraint(
        ["user_id", "parent_id"], ["tasks.user_id", "tasks.id"], name="tasks_parent_fkey", ondelete="CASCADE"
    ),
    # Manual order: unique per scope (user, list, parent), which is also sort=position's keyset index.
    Index(
        "ux_tasks_scope_position",
        "user_id",
        func.coalesce(literal_column("list_id"), 0),
        func.coalesce(literal_column("parent_id"), 0),
        "position",
        unique=True,
    ),
    Index("ix_tasks_user_position", "user_id", "position", "id"),
    Index("ix_tasks_user_change", "user_id", "change_seq"),
    Index("ix_tasks_user_parent", "user_id", "parent_id", postgresql_where=text("parent_id IS NOT NULL")),
    Index("ix_tasks_user_list", "user_id", "list_id", postgresql_where=text("list_id IS NOT NULL")),
    # One index per sort: a user's page is a range scan inside that user's slice of it.
    Index("ix_tasks_user_created", "user_id", "created_at", "id"),
    Index("ix_tasks_user_updated", "user_id", "updated_at", "id"),
    Index("ix_tasks_user_priority", "user_id", "priority", "id"),
    Index("ix_tasks_user_title", "user_id", func.lower(literal_column("title")), "id"),
    Index(
        "ix_tasks_user_due_asc",
        "user_id",
        func.coalesce(literal_column("due_at"), text("'infinity'::timestamptz")),
        "id",
    ),
    Index(
        "ix_tasks_user_due_desc",
        "user_id",
        func.coalesce(literal_column("due_at"), text("'-infinity'::timestamptz")),
        "id",
    ),
)

"""The tasks table: its columns are TaskRecord's fields, its constraints built from the limits."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Table, func, literal_column, text
from sqlmodel import SQLModel

from shared.models.limits import TAGS_MAX, TITLE_MAX
from shared.models.priority import PRIORITY_RANK
from shared.models.task import COLUMNS

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

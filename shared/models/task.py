"""The task: its fields said once, in TaskRecord. Everything else about a task is derived from it.

The table (shared.models.table), the response schema (TaskPublic) and the read-only fields of the
input schemas (shared.models.task_input) are built from this class (see shared.models.record).
Adding a field: one line here, a migration, and (if clients may set it) one line in TaskFields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field, create_model
from sqlalchemy import Boolean, DateTime, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import BIGINT

from shared.models.limits import DESCRIPTION_MAX, TIMEZONE_MAX, TITLE_MAX, USER_ID_MAX
from shared.models.priority import Priority
from shared.models.record import PRIVATE, Col, Record
from shared.models.sql_types import PriorityRank, TagList
from shared.models.times import Timestamp

_TIME = DateTime(timezone=True)
RecurrenceBasis = Literal["due", "completion"]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as the repositories return it: a plain value, built from a row in one call.

    Fields are in the table's column order (the table is built from them), so `TaskRecord(*row)`
    builds one. Responses are serialised straight from records (task_json, tasks_json).
    """

    id: Annotated[int, Col(BIGINT, primary_key=True, autoincrement=True)]
    user_id: Annotated[str, Col(String(USER_ID_MAX))]
    title: Annotated[str, Col(String(TITLE_MAX))]
    description: Annotated[str | None, Col(String(DESCRIPTION_MAX), nullable=True)]
    completed: Annotated[bool, Col(Boolean, server_default=text("false"))]
    completed_at: Annotated[Timestamp | None, Col(_TIME, nullable=True)]
    priority: Annotated[Priority, Col(PriorityRank, server_default=text("1"))]
    due_at: Annotated[Timestamp | None, Col(_TIME, nullable=True)]
    tags: Annotated[list[str], Col(TagList, server_default=text("'{}'::text[]"))]
    version: Annotated[int, Col(Integer, server_default=text("1")), PRIVATE]
    created_at: Annotated[Timestamp, Col(_TIME, server_default=func.now())]
    updated_at: Annotated[Timestamp, Col(_TIME, server_default=func.now())]
    # Part 2 (migration 0002). `position` is NULL only on tombstones, which no response shows.
    list_id: Annotated[int | None, Col(BIGINT, nullable=True)]
    parent_id: Annotated[int | None, Col(BIGINT, nullable=True)]
    position: Annotated[str, Col(Text(collation="C"), nullable=True)]
    recurrence: Annotated[
        str | None, Col(Text, nullable=True), Field(description="The RFC 5545 RRULE the task repeats by, or null.")
    ]
    recurrence_basis: Annotated[
        RecurrenceBasis,
        Col(String(10), server_default=text("'due'")),
        Field(description="Completing moves due_at to the next occurrence after the due date or after now."),
    ]
    timezone: Annotated[
        str,
        Col(String(TIMEZONE_MAX), server_default=text("'UTC'")),
        Field(description="The IANA zone the rule is expanded in."),
    ]
    last_completed_at: Annotated[
        Timestamp | None,
        Col(_TIME, nullable=True),
        Field(description="When the task was last completed (a recurring task stays open, this moves)."),
    ]
    recurrence_start: Annotated[Timestamp | None, Col(_TIME, nullable=True), PRIVATE]
    deleted_at: Annotated[Timestamp | None, Col(_TIME, nullable=True), PRIVATE]
    change_seq: Annotated[int, Col(BIGINT, server_default=text("0")), PRIVATE]


TASK: Record[TaskRecord] = Record.of(TaskRecord)
FIELDS = TASK.fields
PRIVATE_FIELDS = TASK.private_fields
PUBLIC_FIELDS = TASK.public_fields
COLUMNS = TASK.columns
TaskPublic = create_model(
    "TaskPublic", **TASK.public_schema
)  # the response schema, for the OpenAPI document and the tests


class TaskStats(BaseModel):
    total: int
    pending: int
    completed: int
    overdue: int


def task_json(task: TaskRecord) -> bytes:
    """The task as the API shows it (TaskPublic's shape), serialised without a validation pass."""
    return TASK.json(task)


def tasks_json(tasks: list[TaskRecord]) -> bytes:
    return TASK.json_many(tasks)

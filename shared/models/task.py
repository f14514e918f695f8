"""The task: its fields said once, in TaskRecord. Everything else about a task is derived from it.

Each field gives its Python type (which also decides its JSON) and, in a `Col`, how it is stored;
the table (shared.models.table), the response schema (TaskPublic) and the read-only fields of the
input schemas (shared.models.task_input) are built from this class. A field marked `PRIVATE` is
stored but never shown to clients. Adding a field: one line here, a migration, and (if clients may
set it) one line in TaskCreate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, get_type_hints

from pydantic import BaseModel, TypeAdapter, create_model
from sqlalchemy import Boolean, DateTime, Integer, String, func, text
from sqlalchemy.dialects.postgresql import BIGINT

from shared.models.limits import DESCRIPTION_MAX, TITLE_MAX, USER_ID_MAX
from shared.models.priority import Priority
from shared.models.sql_types import PriorityRank, TagList
from shared.models.times import Timestamp


class Col:
    """How a record field is stored: a column named after the field (arguments as for `Column`)."""

    def __init__(self, type_: Any, **options: Any) -> None:
        self.type = type_
        self.options = {"nullable": False, **options}


PRIVATE = object()  # marks a stored field that responses leave out

_TIME = DateTime(timezone=True)


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


def _metadata(name: str) -> tuple[Any, ...]:
    return tuple(getattr(_HINTS[name], "__metadata__", ()))


_HINTS = get_type_hints(TaskRecord, include_extras=True)
FIELDS = tuple(f.name for f in fields(TaskRecord))
PRIVATE_FIELDS = frozenset(name for name in FIELDS if PRIVATE in _metadata(name))
PUBLIC_FIELDS = tuple(name for name in FIELDS if name not in PRIVATE_FIELDS)
COLUMNS = {name: next(m for m in _metadata(name) if isinstance(m, Col)) for name in FIELDS}

# The response schema, for the OpenAPI document and the tests: the record's public fields.
_PUBLIC: dict[str, Any] = {name: (_HINTS[name], ...) for name in PUBLIC_FIELDS}
TaskPublic: type[BaseModel] = create_model("TaskPublic", **_PUBLIC)


class TaskStats(BaseModel):
    total: int
    pending: int
    completed: int
    overdue: int


_RECORD = TypeAdapter(TaskRecord)
_RECORDS = TypeAdapter(list[TaskRecord])


def task_json(task: TaskRecord) -> bytes:
    """The task as the API shows it (TaskPublic's shape), serialised without a validation pass."""
    return _RECORD.dump_json(task, exclude=set(PRIVATE_FIELDS))


def tasks_json(tasks: list[TaskRecord]) -> bytes:
    return _RECORDS.dump_json(tasks, exclude={"__all__": set(PRIVATE_FIELDS)})

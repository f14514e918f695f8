"""What clients send: the input schemas for creating and changing a task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, get_type_hints

from pydantic import (
    Field,
    StrictBool,
    ValidationInfo,
    create_model,
    field_validator,
)

from shared.models.client_input import ClientInput
from shared.models.limits import ROW_ID_MAX
from shared.models.priority import Priority
from shared.models.recurrence import Recurrence, TimeZone
from shared.models.task import PUBLIC_FIELDS, RecurrenceBasis
from shared.models.text import Description, Tags, Title
from shared.models.times import DueAt


class _TaskInput(ClientInput):
    """Unknown fields are rejected; the read-only fields a client read may be sent back and are ignored."""


# A list or task id in a body: a positive bigint (a JSON integer, never a string or a float).
RowId = Annotated[int, Field(strict=True, ge=1, le=ROW_ID_MAX)]
RECURRENCE_NEEDS_DUE_AT = "a recurring task needs due_at: its first occurrence"


# The fields a client may set; every other field a response shows is read-only.
class TaskFields(_TaskInput):
    title: Title
    description: Description = None
    completed: StrictBool = False
    priority: Priority = Priority.medium
    due_at: DueAt = None
    tags: Tags = Field(default_factory=list)
    list_id: RowId | None = Field(default=None, description="The task's list; null: the inbox.")
    parent_id: RowId | None = Field(
        default=None, description="The top-level task this is a subtask of; null: a top-level task."
    )
    recurrence: Recurrence = None
    recurrence_basis: RecurrenceBasis = "due"
    timezone: TimeZone = "UTC"

    @field_validator("recurrence")
    @classmethod
    def _needs_due_date(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A due_at that failed its own validation is reported there, not again here.
        if value is not None and "due_at" in info.data and info.data["due_at"] is None:
            raise ValueError(RECURRENCE_NEEDS_DUE_AT)
        return value


class TaskCreate(TaskFields):
    after_id: RowId | None = Field(
        default=None,
        description="Place the new task right after this task of its scope (null: first); absent: last.",
    )


class TaskReplace(TaskFields):
    """PUT: every editable field; omitted optional fields go back to their defaults."""


# Where a task goes among its scope's (user, list, parent) tasks: not a stored field.
PLACEMENT_FIELDS = frozenset({"after_id"})
READ_ONLY_FIELDS = frozenset(PUBLIC_FIELDS) - set(TaskFields.model_fields)
_TaskInput.read_only = READ_ONLY_FIELDS

_UPDATE_DOC = "PATCH: only the fields sent change."
if TYPE_CHECKING:

    class TaskUpdate(_TaskInput):
        """PATCH: only the fields sent change."""

else:
    # TaskFields' fields, each with the same type but absent by default. Absent means
    # "unchanged"; a field whose type excludes null (title, completed, ...) refuses an explicit null.
    _hints = get_type_hints(TaskFields, include_extras=True)
    TaskUpdate = create_model(
        "TaskUpdate",
        __base__=_TaskInput,
        __doc__=_UPDATE_DOC,
        **{name: (_hints[name], None) for name in TaskFields.model_fields},
    )


class TaskCompletion(_TaskInput):
    completed: StrictBool | None = None


class TaskMove(_TaskInput):
    """Where a task goes: right after `after_id` (null: first) in the target scope. An omitted
    `list_id` and `parent_id` keep the task's own; a `parent_id` alone takes the parent's list."""

    after_id: RowId | None
    list_id: RowId | None = None
    parent_id: RowId | None = None

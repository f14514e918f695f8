"""What clients send: the input schemas for creating and changing a task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from shared.models.priority import Priority
from shared.models.recurrence import Recurrence, TimeZone
from shared.models.task import PUBLIC_FIELDS, RecurrenceBasis
from shared.models.text import Description, Tags, Title
from shared.models.times import DueAt


class _TaskInput(BaseModel):
    """Unknown fields are rejected; the read-only fields a client read may be sent back and are ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


RECURRENCE_NEEDS_DUE_AT = "a recurring task needs due_at: its first occurrence"


# The fields a client may set; every other field a response shows is read-only.
class TaskCreate(_TaskInput):
    title: Title
    description: Description = None
    completed: StrictBool = False
    priority: Priority = Priority.medium
    due_at: DueAt = None
    tags: Tags = Field(default_factory=list)
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


class TaskReplace(TaskCreate):
    """PUT: every editable field; omitted optional fields go back to their defaults."""


READ_ONLY_FIELDS = frozenset(PUBLIC_FIELDS) - set(TaskCreate.model_fields)

_UPDATE_DOC = "PATCH: only the fields sent change."
if TYPE_CHECKING:

    class TaskUpdate(_TaskInput):
        """PATCH: only the fields sent change."""

else:
    # TaskCreate's fields, each with the same type but absent by default. Absent means
    # "unchanged"; a field whose type excludes null (title, completed, ...) refuses an explicit null.
    _hints = get_type_hints(TaskCreate, include_extras=True)
    TaskUpdate = create_model(
        "TaskUpdate",
        __base__=_TaskInput,
        __doc__=_UPDATE_DOC,
        **{name: (_hints[name], None) for name in TaskCreate.model_fields},
    )


class TaskCompletion(_TaskInput):
    completed: StrictBool | None = None

"""The Task table and its API schemas. Every limit is defined here once."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

TITLE_MAX = 255
DESCRIPTION_MAX = 1000
TAGS_MAX = 20
TAG_MAX = 50
USER_ID_MAX = 255

# Control characters, and lone surrogates (valid JSON escapes that no UTF-8 database can store).
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# What "surrounding whitespace" trims: Unicode white space. Python's str.isspace() also counts
# the separators U+001C-U+001F, which are control characters and must be refused, not trimmed.
_WHITESPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class Priority(str, enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"


PRIORITY_RANK = {Priority.low: 0, Priority.medium: 1, Priority.high: 2}
_RANK_PRIORITY = {rank: priority for priority, rank in PRIORITY_RANK.items()}


class PriorityRank(TypeDecorator[Priority]):
    """Stored as 0/1/2 so that sorting by priority is an index scan, exposed as its name."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else PRIORITY_RANK[Priority(value)]

    def process_result_value(self, value: Any, dialect: Any) -> Priority | None:
        return None if value is None else _RANK_PRIORITY[value]


class TagList(TypeDecorator[list[str]]):
    """text[]: psycopg2 already returns a list of str, so no per-item result processing."""

    impl = ARRAY(Text)
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


def _check_title(value: str) -> str:
    value = value.strip(_WHITESPACE)
    if not value:
        raise ValueError("title must not be blank")
    if len(value) > TITLE_MAX:
        raise ValueError(f"title must be at most {TITLE_MAX} characters")
    if CONTROL_CHARS.search(value):
        raise ValueError("title must not contain control characters")
    return value


def _check_description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(f"description must be at most {DESCRIPTION_MAX} characters")
    if _CONTROL_EXCEPT_WHITESPACE.search(value):
        raise ValueError("description must not contain control characters other than line breaks and tabs")
    return value


def normalize_tag(value: str) -> str:
    value = value.strip(_WHITESPACE).lower()
    if not 1 <= len(value) <= TAG_MAX:
        raise ValueError(f"each tag must be 1-{TAG_MAX} characters")
    if CONTROL_CHARS.search(value):
        raise ValueError("tags must not contain control characters")
    return value


def _check_tags(values: list[str]) -> list[str]:
    tags = list(dict.fromkeys(normalize_tag(v) for v in values))
    if len(tags) > TAGS_MAX:
        raise ValueError(f"at most {TAGS_MAX} distinct tags")
    return tags


def _rfc3339_only(value: Any) -> Any:
    # Lax datetime parsing would take a number, or a numeric string, as Unix time.
    if value is not None and not isinstance(value, datetime) and not (isinstance(value, str) and _RFC3339.match(value)):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2030-01-31T09:00:00Z")
    return value


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within the years 1-9999 in UTC") from None


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# The schemas tell clients the rule after trimming: some visible character, no control character.
_VISIBLE_TEXT = "^[^\\x00-\\x1f\\x7f]*[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]*$"
Title = Annotated[
    str,
    AfterValidator(_check_title),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": TITLE_MAX, "pattern": _VISIBLE_TEXT}),
]
Description = Annotated[
    str | None,
    Field(max_length=DESCRIPTION_MAX),
    AfterValidator(_check_description),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "maxLength": DESCRIPTION_MAX,
                    "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$",
                },
                {"type": "null"},
            ]
        }
    ),
]
Tag = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": _VISIBLE_TEXT})]
Tags = Annotated[
    list[Tag],
    Field(max_length=TAGS_MAX * 5),
    AfterValidator(_check_tags),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": _VISIBLE_TEXT},
            "maxItems": TAGS_MAX,
        }
    ),
]
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only), AfterValidator(_to_utc)]
DueAt = Annotated[AwareDatetime | None, BeforeValidator(_rfc3339_only), AfterValidator(_to_utc)]
Timestamp = Annotated[datetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]

READ_ONLY_FIELDS = ("id", "user_id", "created_at", "updated_at", "completed_at")


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 0 AND 2", name="tasks_priority_range"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 255", name="tasks_title_length"),
        CheckConstraint("cardinality(tags) <= 20", name="tasks_tags_count"),
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

    id: int | None = SQLField(default=None, sa_column=Column(BIGINT, primary_key=True, autoincrement=True))
    user_id: str = SQLField(sa_column=Column(String(USER_ID_MAX), nullable=False))
    title: str = SQLField(sa_column=Column(String(TITLE_MAX), nullable=False))
    description: str | None = SQLField(default=None, sa_column=Column(String(DESCRIPTION_MAX), nullable=True))
    completed: bool = SQLField(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    completed_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    priority: Priority = SQLField(
        default=Priority.medium, sa_column=Column(PriorityRank, nullable=False, server_default=text("1"))
    )
    due_at: datetime | None = SQLField(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    tags: list[str] = SQLField(
        default_factory=list, sa_column=Column(TagList, nullable=False, server_default=text("'{}'::text[]"))
    )
    version: int = SQLField(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    created_at: datetime = SQLField(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    updated_at: datetime = SQLField(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class _TaskInput(BaseModel):
    """Unknown fields are rejected; the read-only fields a client read may be sent back and are ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


class TaskCreate(_TaskInput):
    title: Title
    description: Description = None
    completed: StrictBool = False
    priority: Priority = Priority.medium
    due_at: DueAt = None
    tags: Tags = Field(default_factory=list)


class TaskReplace(TaskCreate):
    """PUT: every editable field; omitted optional fields go back to their defaults."""


class TaskUpdate(_TaskInput):
    """PATCH: only the fields sent change."""

    # Absent means "unchanged"; null is no value for these four, so their types exclude it.
    title: Title = None  # type: ignore[assignment]
    description: Description = None
    completed: StrictBool = None  # type: ignore[assignment]
    priority: Priority = None  # type: ignore[assignment]
    due_at: DueAt = None
    tags: Tags = None  # type: ignore[assignment]


class TaskCompletion(_TaskInput):
    completed: StrictBool | None = None


class TaskPublic(BaseModel):
    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: Timestamp | None
    priority: Priority
    due_at: Timestamp | None
    tags: list[str]
    created_at: Timestamp
    updated_at: Timestamp


class TaskStats(BaseModel):
    total: int
    pending: int
    completed: int
    overdue: int


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as the repositories return it: a plain value, built from a row in one call.

    (The table model above describes the schema; instantiating it per row costs the ORM's
    instrumentation on every read.) Fields are in the table's column order. Responses are
    serialised straight from records (task_json, tasks_json), in TaskPublic's shape.
    """

    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: Timestamp | None
    priority: Priority
    due_at: Timestamp | None
    tags: list[str]
    version: int
    created_at: Timestamp
    updated_at: Timestamp


assert [f.name for f in fields(TaskRecord)] == list(Task.__table__.columns.keys())  # type: ignore[attr-defined]


_PRIVATE_FIELDS = {"version"}
_RECORD = TypeAdapter(TaskRecord)
_RECORDS = TypeAdapter(list[TaskRecord])


def task_json(task: TaskRecord) -> bytes:
    """The task as the API shows it (TaskPublic's shape), serialised without a validation pass."""
    return _RECORD.dump_json(task, exclude=_PRIVATE_FIELDS)


def tasks_json(tasks: list[TaskRecord]) -> bytes:
    return _RECORDS.dump_json(tasks, exclude={"__all__": _PRIVATE_FIELDS})


ANY_ETAG = "*"


def etag_of(task: TaskRecord) -> str:
    """Strong ETag: the row's write counter, which moves on every successful write."""
    return f'"{task.id}.{task.version}"'


def version_in_etag(etag: str, task_id: int) -> int | None:
    """The version an ETag of `etag_of` names for this task; None for any other tag."""
    prefix = f'"{task_id}.'
    version = etag[len(prefix) : -1]
    if etag.startswith(prefix) and etag.endswith('"') and version.isdigit():
        return int(version)
    return None

"""What a task listing asks for: filters and sort. Plain data, shared by service and repository."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from shared.models.priority import Priority


class Status(str, enum.Enum):
    all = "all"
    pending = "pending"
    completed = "completed"


class SortField(str, enum.Enum):
    created_at = "created_at"
    updated_at = "updated_at"
    due_at = "due_at"
    priority = "priority"
    title = "title"  # type: ignore[assignment]  # an Enum member may shadow str.title
    position = "position"  # manual order


SORT_VALUES = [f"{sign}{f.value}" for f in SortField for sign in ("", "-")]


@dataclass(frozen=True)
class Sort:
    field: SortField = SortField.created_at
    descending: bool = False

    @classmethod
    def parse(cls, value: str) -> Sort:
        descending = value.startswith("-")
        return cls(SortField(value.removeprefix("-")), descending)

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field.value


def _canonical(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Sort):
        return str(value)
    return value


TOP_LEVEL = 0  # the inbox (no list), or top level (no parent)
NO_SUCH_ID = -1  # stands for an id beyond any row's: the filter matches nothing


@dataclass(frozen=True)
class TaskQuery:
    """A listing's filters and sort. A filter that is None or () is not applied.

    A new filter is a field here and an entry in the repository's LIST_FILTERS (plus its query
    parameter in the route); cursors are bound to every field.
    """

    status: Status = Status.all
    priorities: tuple[Priority, ...] = ()
    tags: tuple[str, ...] = ()
    q: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    # Scopes as stored by the position index: coalesce(list_id, 0), coalesce(parent_id, 0).
    # 0 is the inbox / top level; NO_SUCH_ID an id that cannot exist (too large for a bigint).
    list_scope: int | None = None
    parent_scope: int | None = None
    sort: Sort = field(default_factory=Sort)

    def fingerprint(self) -> list[object]:
        """Everything a cursor is bound to (not the page size): every field, in a canonical form."""
        return [_canonical(getattr(self, f.name)) for f in fields(self)]


@dataclass(frozen=True)
class After:
    """Where a keyset page starts: right after the row with this sort source (its text, as the
    database wrote it; None when NULL) and id (from a cursor)."""

    sort_source: str | None
    task_id: int

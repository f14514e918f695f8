"""What a task listing asks for: filters and sort. Plain data, shared by service and repository."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True)
class TaskQuery:
    status: Status = Status.all
    priorities: tuple[Priority, ...] = ()
    tags: tuple[str, ...] = ()
    q: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sort: Sort = field(default_factory=Sort)

    def fingerprint(self) -> list[object]:
        """Everything a cursor is bound to (not the page size), in a canonical order."""
        return [
            self.status.value,
            sorted(p.value for p in self.priorities),
            sorted(self.tags),
            self.q,
            self.due_before.isoformat() if self.due_before else None,
            self.due_after.isoformat() if self.due_after else None,
            str(self.sort),
        ]

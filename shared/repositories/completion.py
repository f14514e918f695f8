"""SQL for completing a task, recurring ones included. Scoped by owner like every repository function.

Completing a recurring task needs its next occurrence, computed in Python from the task as it is:
the complete statement returns that task when it would have completed a recurring one, and the
write that follows is guarded by the version the occurrence was computed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, false, func, or_, select, true, update
from sqlmodel import Session

from shared.models.table import tasks
from shared.models.task import TaskRecord
from shared.repositories.tasks import completion_changes, guarded, owned, run, to_record


@dataclass(frozen=True)
class Completion:
    """What the complete statement did: `applied`, or not, and then `task` is the task as it is."""

    applied: bool
    task: TaskRecord


@cache
def _complete(completed: bool | str, by_version: bool) -> Any:
    """Complete (or toggle) unless that would complete a recurring task; in that case, and when the
    versions do not match, change nothing and return the task as it is instead, in the same round trip."""
    current = select(tasks).where(*owned()).cte("current")
    changes = completion_changes(completed) | {"updated_at": func.now(), "version": tasks.c.version + 1}
    done = (
        update(tasks)
        .where(*guarded(by_version), or_(tasks.c.recurrence.is_(None), tasks.c.completed))
        .values(changes)
        .returning(*tasks.c)
        .cte("done")
    )
    untouched = select(false().label("applied"), *current.c).where(~exists(select(done.c.id)))
    return select(true().label("applied"), *done.c).union_all(untouched)


def complete_task(
    session: Session, *, owner_id: str, task_id: int, completed: bool | str, versions: tuple[int, ...] | None
) -> Completion | None:
    """Set completed to True or TOGGLE it, except on a recurring task it would complete. None: no such task."""
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id}
    if versions is not None:
        params["versions"] = list(versions)
    row = run(session, _complete(completed, versions is not None), params).one_or_none()
    return None if row is None else Completion(bool(row[0]), to_record(row[1:]))


_ADVANCE = (
    update(tasks)
    .where(*owned(), tasks.c.version == bindparam("version"))
    .values(
        due_at=bindparam("next_due", type_=tasks.c.due_at.type),
        completed=false(),
        completed_at=None,
        last_completed_at=func.now(),
        updated_at=func.now(),
        version=tasks.c.version + 1,
    )
    .returning(*tasks.c)
)
_FINISH = (
    update(tasks)
    .where(*owned(), tasks.c.version == bindparam("version"))
    .values(
        completed=true(),
        completed_at=func.coalesce(tasks.c.completed_at, func.now()),
        last_completed_at=func.now(),
        updated_at=func.now(),
        version=tasks.c.version + 1,
    )
    .returning(*tasks.c)
)


def complete_occurrence(
    session: Session, *, owner_id: str, task_id: int, version: int, next_due: datetime | None
) -> TaskRecord | None:
    """A recurring task's completion, if it still has `version`: due_at moves to `next_due` and the
    task stays open, or, when `next_due` is None (the rule has ended), it completes. None: it changed."""
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id, "version": version}
    statement = _FINISH if next_due is None else _ADVANCE
    if next_due is not None:
        params["next_due"] = next_due
    row = run(session, statement, params).one_or_none()
    return None if row is None else to_record(row)

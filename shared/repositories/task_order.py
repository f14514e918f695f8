"""SQL for a task's manual order: the move, and the rebalance of a scope whose keys grew long.

A move is one statement: it reads the neighbour (`after_id`) and the next key of the target
scope and writes the task with the key between them; when the task changes list, its subtasks
follow in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session

from shared.models.table import tasks
from shared.models.task import TaskRecord
from shared.repositories.positions import SERIALISED, Place, after_exists, placed_key, rebalance, rebalance_statement
from shared.repositories.tasks import guarded, parent_list, scope_of, to_record, with_subtasks_following, write

# Where a moved task's list comes from.
OWN, GIVEN, PARENTS = "own", "given", "parents"


@dataclass(frozen=True)
class MoveShape:
    place: Place  # first, or after
    list_source: str  # OWN (unchanged), GIVEN (the body's list_id), PARENTS (the new parent's list)
    parent_given: bool
    guarded: bool


@cache
def _move(shape: MoveShape) -> Any:
    new_parent = bindparam("parent_ref") if shape.parent_given else tasks.c.parent_id
    new_list = {OWN: tasks.c.list_id, GIVEN: bindparam("list_ref"), PARENTS: parent_list()}[shape.list_source]
    scope = scope_of(new_list, new_parent, exclude=tasks.c.id)
    changes: dict[str, Any] = {
        "position": placed_key(tasks, shape.place, scope),
        "updated_at": func.now(),
        "version": tasks.c.version + 1,
    }
    if shape.parent_given:
        changes["parent_id"] = new_parent
    if shape.list_source != OWN:
        changes["list_id"] = new_list
    statement = update(tasks).where(*guarded(shape.guarded))
    if shape.place is Place.after:
        statement = statement.where(after_exists(tasks, scope))
    statement = statement.values(changes).returning(*tasks.c)
    if shape.list_source == OWN:
        return statement.execution_options(**SERIALISED)
    return with_subtasks_following(statement)


def move_task(
    session: Session,
    *,
    owner_id: str,
    task_id: int,
    after_id: int | None,
    target: dict[str, int | None],
    versions: tuple[int, ...] | None = None,
) -> TaskRecord | None:
    """Place the task right after `after_id` (None: first) in the target scope. `target` holds the
    `list_id` and `parent_id` sent (an absent one stays as it is). None when nothing matched: no
    such task, a stale version, or an `after_id` that is not another live task of that scope."""
    parent_given = "parent_id" in target
    if "list_id" in target:
        list_source = GIVEN
    elif target.get("parent_id") is not None:
        list_source = PARENTS
    else:
        list_source = OWN
    place = Place.first if after_id is None else Place.after
    params: dict[str, Any] = {"owner_id": owner_id, "task_id": task_id}
    params.update({f"{name.removesuffix('_id')}_ref": value for name, value in target.items()})
    if after_id is not None:
        params["after_id"] = after_id
    if versions is not None:
        params["versions"] = list(versions)
    row = write(session, _move(MoveShape(place, list_source, parent_given, versions is not None)), params).one_or_none()
    return None if row is None else to_record(row)


_SCOPE_SQL = (
    "user_id = :owner_id AND deleted_at IS NULL"
    " AND coalesce(list_id, 0) = :list_scope AND coalesce(parent_id, 0) = :parent_scope"
)
_REBALANCE = rebalance_statement(tasks, _SCOPE_SQL)


def rebalance_scope(session: Session, *, owner_id: str, task: TaskRecord) -> TaskRecord | None:
    """Give the task's scope the shortest keys in the same order; the task as it is then."""
    params = {
        "owner_id": owner_id,
        "list_scope": task.list_id or 0,
        "parent_scope": task.parent_id or 0,
        "row_id": task.id,
    }
    row = rebalance(session, _REBALANCE, params)
    return None if row is None else to_record(row)

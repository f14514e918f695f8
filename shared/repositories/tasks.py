"""SQL for tasks. Every function takes the owner as a required keyword and scopes by it.

Each function is one statement (one round trip in autocommit): checks that guard a write,
such as an ETag, live in the statement's WHERE so the check and the write are atomic.

Statements are built once per shape (which fields a write sets, which filters a listing uses)
and executed with bound parameters: building and coercing a SQLAlchemy statement costs more
than PostgreSQL takes to run it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    SmallInteger,
    Text,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from shared.models.listing import After, Sort, SortField, Status, TaskQuery
from shared.models.priority import PRIORITY_RANK
from shared.models.table import tasks
from shared.models.task import TaskRecord, TaskStats

TOGGLE = "toggle"  # `completed=TOGGLE` flips the flag


def to_record(row: Any) -> TaskRecord:
    return TaskRecord(*row)


def run(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Execute a Core statement on the session's connection (no ORM layer on the way)."""
    return session.connection().execute(statement, params)


def live_owned() -> list[ColumnElement[bool]]:
    """The caller's live tasks. A tombstone (deleted_at set) is gone for every route but sync:
    this is the one place that says so."""
    return [tasks.c.user_id == bindparam("owner_id"), tasks.c.deleted_at.is_(None)]


def _owned() -> list[ColumnElement[bool]]:
    return [tasks.c.id == bindparam("task_id"), *live_owned()]


def _guarded(by_version: bool) -> list[ColumnElement[bool]]:
    clauses = _owned()
    if by_version:
        clauses.append(tasks.c.version.in_(bindparam("versions", expanding=True)))
    return clauses


def _completion(completed: bool | str) -> dict[str, Any]:
    """completed_at follows completed: set when it turns true (kept if already true), cleared when false."""
    if completed == TOGGLE:
        return {
            "completed": ~tasks.c.completed,
            "completed_at": case((tasks.c.completed, None), else_=func.now()),
        }
    if completed:
        return {"completed": true(), "completed_at": func.coalesce(tasks.c.completed_at, func.now())}
    return {"completed": false(), "completed_at": None}


@cache
def insert_shape(fields: tuple[str, ...], completed: bool) -> Any:
    """INSERT ... RETURNING the row, for values of these fields (owner_id bound as well)."""
    values: dict[str, Any] = {name: bindparam(name, type_=tasks.c[name].type) for name in fields}
    values.update(user_id=bindparam("owner_id"), completed=completed, completed_at=func.now() if completed else None)
    return insert(tasks).values(values).returning(*tasks.c)


def insert_params(owner_id: str, values: dict[str, Any]) -> tuple[tuple[str, ...], bool, dict[str, Any]]:
    """The shape of the INSERT for these values (its fields, whether completed) and its parameters."""
    fields = tuple(sorted(k for k in values if k != "completed"))
    params = {k: values[k] for k in fields} | {"owner_id": owner_id}
    return fields, bool(values.get("completed")), params


def insert_task(session: Session, *, owner_id: str, values: dict[str, Any]) -> TaskRecord:
    fields, completed, params = insert_params(owner_id, values)
    return to_record(run(session, insert_shape(fields, completed), params).one())


_GET = select(tasks).where(*_owned())
VERSION = select(tasks.c.version).where(*_owned())  # the live task's version: tells 404 from 412


def get_task(session: Session, *, owner_id: str, task_id: int) -> TaskRecord | None:
    row = run(session, _GET, {"task_id": task_id, "owner_id": owner_id}).one_or_none()
    return None if row is None else to_record(row)


def task_version(session: Session, *, owner_id: str, task_id: int) -> int | None:
    version: int | None = run(session, VERSION, {"task_id": task_id, "owner_id": owner_id}).scalar_one_or_none()
    return version


@cache
def _update(fields: tuple[str, ...], completed: bool | str | None, guarded: bool) -> Any:
    changes: dict[str, Any] = {name: bindparam(f"set_{name}", type_=tasks.c[name].type) for name in fields}
    if completed is not None:
        changes.update(_completion(completed))
    changes.update(updated_at=func.now(), version=tasks.c.version + 1)
    return update(tasks).where(*_guarded(guarded)).values(changes).returning(*tasks.c)


def update_statement(
    *, owner_id: str, task_id: Any, values: dict[str, Any], versions: tuple[int, ...] | None
) -> tuple[Any, dict[str, Any]]:
    """The UPDATE ... RETURNING that applies `values`, and its parameters."""
    fields = tuple(sorted(k for k in values if k != "completed"))
    statement = _update(fields, values.get("completed"), versions is not None)
    params = {f"set_{k}": values[k] for k in fields} | {"task_id": task_id, "owner_id": owner_id}
    if versions is not None:
        params["versions"] = list(versions)
    return statement, params


def update_task(
    session: Session, *, owner_id: str, task_id: int, values: dict[str, Any], versions: tuple[int, ...] | None = None
) -> TaskRecord | None:
    """Apply `values` (a `completed` entry may be True, False or TOGGLE). None when no row matched."""
    statement, params = update_statement(owner_id=owner_id, task_id=task_id, values=values, versions=versions)
    row = run(session, statement, params).one_or_none()
    return None if row is None else to_record(row)


@cache
def delete_statement(guarded: bool) -> Any:
    """Tombstone the task and its subtasks in one statement (sync reports them; pruned after 30 days).

    The guard (owner, live, If-Match) is on the task; its subtasks go only when it does.
    """
    tombstone = {"deleted_at": func.now(), "updated_at": func.now(), "version": tasks.c.version + 1}
    target = update(tasks).where(*_guarded(guarded)).values(tombstone).returning(tasks.c.id).cte("target")
    subtasks = (
        update(tasks)
        .where(*live_owned(), tasks.c.parent_id.in_(select(target.c.id)))
        .values(tombstone)
        .returning(tasks.c.id)
        .cte("subtasks")
    )
    return select(target.c.id).add_cte(subtasks)


def delete_task(session: Session, *, owner_id: str, task_id: int, versions: tuple[int, ...] | None = None) -> bool:
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id}
    if versions is not None:
        params["versions"] = list(versions)
    return run(session, delete_statement(versions is not None), params).first() is not None


_INFINITY: ColumnElement[Any] = literal_column("'infinity'::timestamptz")
_MINUS_INFINITY: ColumnElement[Any] = literal_column("'-infinity'::timestamptz")


def _sort_key(field: SortField, descending: bool) -> Any:
    """The expression each sort orders by; each one matches an index on (user_id, key, id)."""
    if field is SortField.due_at:
        # Tasks without a due date come last in both directions.
        return func.coalesce(tasks.c.due_at, _MINUS_INFINITY if descending else _INFINITY)
    if field is SortField.title:
        return func.lower(tasks.c.title)
    if field is SortField.priority:
        return type_coerce(tasks.c.priority, SmallInteger)
    return tasks.c[field.value]


def cursor_value(task: TaskRecord, query: TaskQuery) -> Any:
    """The sort key of a task, as stored in a cursor (None stands for a missing due date)."""
    field = query.sort.field
    if field is SortField.title:
        return task.title.lower()
    if field is SortField.priority:
        return PRIORITY_RANK[task.priority]
    return getattr(task, field.value)


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class ListFilter:
    """An optional filter of a listing, applied when its TaskQuery field is set (not None or ())."""

    clause: ColumnElement[bool]
    params: Callable[[Any], dict[str, Any]]


_pattern = bindparam("pattern", type_=Text)
# Keyed by the TaskQuery field each one reads.
LIST_FILTERS = {
    "priorities": ListFilter(
        tasks.c.priority.in_(bindparam("priorities", expanding=True)), lambda v: {"priorities": list(v)}
    ),
    "tags": ListFilter(tasks.c.tags.contains(bindparam("tags", type_=ARRAY(Text))), lambda v: {"tags": list(v)}),
    "q": ListFilter(
        or_(tasks.c.title.ilike(_pattern, escape="\\"), tasks.c.description.ilike(_pattern, escape="\\")),
        lambda v: {"pattern": _like(v)},
    ),
    "due_before": ListFilter(
        tasks.c.due_at < bindparam("due_before", type_=tasks.c.due_at.type), lambda v: {"due_before": v}
    ),
    "due_after": ListFilter(
        tasks.c.due_at > bindparam("due_after", type_=tasks.c.due_at.type), lambda v: {"due_after": v}
    ),
}
_STATUS = {
    Status.all: None,
    Status.pending: tasks.c.completed.is_(false()),
    Status.completed: tasks.c.completed.is_(true()),
}


class Start(enum.Enum):
    """Where a page starts: at the beginning, after a sort value, or among the tasks with no due date."""

    first = "first"
    after_value = "after_value"
    after_missing_due_date = "after_missing_due_date"


@dataclass(frozen=True)
class ListShape:
    """Everything that decides a listing's SQL, not its parameter values: one statement per shape."""

    status: Status
    filters: frozenset[str]
    sort: Sort
    start: Start

    @classmethod
    def of(cls, query: TaskQuery, after: After | None) -> ListShape:
        if after is None:
            start = Start.first
        elif after.sort_value is None and query.sort.field is SortField.due_at:
            start = Start.after_missing_due_date
        else:
            start = Start.after_value
        filters = frozenset(name for name in LIST_FILTERS if getattr(query, name) not in (None, ()))
        return cls(query.status, filters, query.sort, start)


@cache
def _list(shape: ListShape) -> Any:
    clauses: list[ColumnElement[bool]] = live_owned()
    status = _STATUS[shape.status]
    if status is not None:
        clauses.append(status)
    clauses += [LIST_FILTERS[name].clause for name in LIST_FILTERS if name in shape.filters]
    descending = shape.sort.descending
    key = _sort_key(shape.sort.field, descending)
    if shape.start is not Start.first:
        if shape.start is Start.after_missing_due_date:
            value: Any = _MINUS_INFINITY if descending else _INFINITY
        else:
            value = bindparam("after_value", type_=key.type)
        bound, start = tuple_(key, tasks.c.id), tuple_(value, bindparam("after_id"))
        clauses.append(bound < start if descending else bound > start)
    order = (key.desc(), tasks.c.id.desc()) if descending else (key.asc(), tasks.c.id.asc())
    return select(tasks).where(and_(*clauses)).order_by(*order).limit(bindparam("limit"))


def list_tasks(
    session: Session, *, owner_id: str, query: TaskQuery, after: After | None, limit: int
) -> list[TaskRecord]:
    """One keyset page: a range scan that starts right after `after`, never an offset."""
    shape = ListShape.of(query, after)
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
    if after is not None:
        params.update(after_value=after.sort_value, after_id=after.task_id)
    for name in shape.filters:
        params.update(LIST_FILTERS[name].params(getattr(query, name)))
    return [to_record(row) for row in run(session, _list(shape), params)]


_pending = tasks.c.completed.is_(false())
_STATS = select(
    func.count().label("total"),
    func.count().filter(_pending).label("pending"),
    func.count().filter(tasks.c.completed.is_(true())).label("completed"),
    func.count().filter(and_(_pending, tasks.c.due_at < func.now())).label("overdue"),
).where(*live_owned())


def task_stats(session: Session, *, owner_id: str) -> TaskStats:
    return TaskStats(**run(session, _STATS, {"owner_id": owner_id}).one()._mapping)

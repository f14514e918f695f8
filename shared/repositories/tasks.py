"""SQL for tasks. Every function takes the owner as a required keyword and scopes by it.

Each function is one statement (one round trip in autocommit): checks that guard a write,
such as an ETag, live in the statement's WHERE so the check and the write are atomic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    SmallInteger,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlmodel import Session

from shared.models.listing import SortField, Status, TaskQuery
from shared.models.task import PRIORITY_RANK, Task, TaskStats

tasks = Task.__table__  # type: ignore[attr-defined]
TOGGLE = object()  # `completed=TOGGLE` flips the flag


def _to_task(row: Any) -> Task:
    return Task(**{c.key: row._mapping[c.key] for c in tasks.columns})


def _completion(completed: Any) -> dict[str, Any]:
    """completed_at follows completed: set when it turns true (kept if already true), cleared when false."""
    if completed is TOGGLE:
        return {
            "completed": ~tasks.c.completed,
            "completed_at": case((tasks.c.completed, None), else_=func.now()),
        }
    if completed:
        return {"completed": true(), "completed_at": func.coalesce(tasks.c.completed_at, func.now())}
    return {"completed": false(), "completed_at": None}


def insert_values(owner_id: str, values: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in values.items() if k != "completed"}
    completed = bool(values.get("completed"))
    row.update(user_id=owner_id, completed=completed, completed_at=func.now() if completed else None)
    return row


def insert_task(session: Session, *, owner_id: str, values: dict[str, Any]) -> Task:
    stmt = insert(tasks).values(**insert_values(owner_id, values)).returning(*tasks.c)
    return _to_task(session.execute(stmt).one())


def get_task(session: Session, *, owner_id: str, task_id: int) -> Task | None:
    stmt = select(tasks).where(tasks.c.id == task_id, tasks.c.user_id == owner_id)
    row = session.execute(stmt).one_or_none()
    return None if row is None else _to_task(row)


def task_version(session: Session, *, owner_id: str, task_id: int) -> int | None:
    stmt = select(tasks.c.version).where(tasks.c.id == task_id, tasks.c.user_id == owner_id)
    return session.execute(stmt).scalar_one_or_none()


def _guard(owner_id: str, task_id: int, versions: list[int] | None) -> list[ColumnElement[bool]]:
    clauses = [tasks.c.id == task_id, tasks.c.user_id == owner_id]
    if versions is not None:
        clauses.append(tasks.c.version.in_(versions) if versions else false())
    return clauses


def update_task(
    session: Session, *, owner_id: str, task_id: int, values: dict[str, Any], versions: list[int] | None = None
) -> Task | None:
    """Apply `values` (a `completed` entry may be True, False or TOGGLE). None when no row matched."""
    changes = {k: v for k, v in values.items() if k != "completed"}
    if "completed" in values:
        changes.update(_completion(values["completed"]))
    changes.update(updated_at=func.now(), version=tasks.c.version + 1)
    stmt = update(tasks).where(*_guard(owner_id, task_id, versions)).values(**changes).returning(*tasks.c)
    row = session.execute(stmt).one_or_none()
    return None if row is None else _to_task(row)


def delete_task(session: Session, *, owner_id: str, task_id: int, versions: list[int] | None = None) -> bool:
    stmt = delete(tasks).where(*_guard(owner_id, task_id, versions)).returning(tasks.c.id)
    return session.execute(stmt).first() is not None


_INFINITY = literal_column("'infinity'::timestamptz")
_MINUS_INFINITY = literal_column("'-infinity'::timestamptz")


def sort_key(query: TaskQuery) -> KeyedColumnElement[Any] | ColumnElement[Any]:
    """The expression each sort orders by; each one matches an index on (user_id, key, id)."""
    field = query.sort.field
    if field is SortField.due_at:
        # Tasks without a due date come last in both directions.
        return func.coalesce(tasks.c.due_at, _MINUS_INFINITY if query.sort.descending else _INFINITY)
    if field is SortField.title:
        return func.lower(tasks.c.title)
    if field is SortField.priority:
        return type_coerce(tasks.c.priority, SmallInteger)
    return tasks.c[field.value]


def cursor_value(task: Task, query: TaskQuery) -> Any:
    """The sort key of a task, as stored in a cursor (None stands for a missing due date)."""
    field = query.sort.field
    if field is SortField.title:
        return task.title.lower()
    if field is SortField.priority:
        return PRIORITY_RANK[task.priority]
    return getattr(task, field.value)


def _filters(owner_id: str, query: TaskQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [tasks.c.user_id == owner_id]
    if query.status is Status.pending:
        clauses.append(tasks.c.completed.is_(false()))
    elif query.status is Status.completed:
        clauses.append(tasks.c.completed.is_(true()))
    if query.priorities:
        clauses.append(tasks.c.priority.in_(list(query.priorities)))
    if query.tags:
        clauses.append(tasks.c.tags.contains(list(query.tags)))
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(tasks.c.title.ilike(pattern, escape="\\"), tasks.c.description.ilike(pattern, escape="\\")))
    if query.due_before is not None:
        clauses.append(tasks.c.due_at < query.due_before)
    if query.due_after is not None:
        clauses.append(tasks.c.due_at > query.due_after)
    return clauses


def list_tasks(
    session: Session, *, owner_id: str, query: TaskQuery, after: tuple[Any, int] | None, limit: int
) -> list[Task]:
    """One keyset page: a range scan that starts right after `after`, never an offset."""
    key = sort_key(query)
    clauses = _filters(owner_id, query)
    if after is not None:
        value, last_id = after
        if value is None and query.sort.field is SortField.due_at:
            value = _MINUS_INFINITY if query.sort.descending else _INFINITY
        bound = tuple_(key, tasks.c.id)
        position = tuple_(value if isinstance(value, ColumnElement) else literal(value, key.type), literal(last_id))
        clauses.append(bound < position if query.sort.descending else bound > position)
    order = (key.desc(), tasks.c.id.desc()) if query.sort.descending else (key.asc(), tasks.c.id.asc())
    stmt = select(tasks).where(and_(*clauses)).order_by(*order).limit(limit)
    return [_to_task(row) for row in session.execute(stmt)]


def task_stats(session: Session, *, owner_id: str) -> TaskStats:
    pending = tasks.c.completed.is_(false())
    stmt = select(
        func.count().label("total"),
        func.count().filter(pending).label("pending"),
        func.count().filter(tasks.c.completed.is_(true())).label("completed"),
        func.count().filter(and_(pending, tasks.c.due_at < func.now())).label("overdue"),
    ).where(tasks.c.user_id == owner_id)
    return TaskStats(**session.execute(stmt).one()._mapping)

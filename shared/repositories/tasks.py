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
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Executable,
    SmallInteger,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.errors import InvalidReference
from shared.models.listing import After, Sort, SortField, Status, TaskQuery
from shared.models.table import (
    RECURRENCE_NEEDS_DUE_AT,  # noqa: F401
    tasks,
)
from shared.models.task import TaskRecord, TaskStats
from shared.repositories.positions import SERIALISED, Place, after_exists, placed_key

TOGGLE = "toggle"  # `completed=TOGGLE` flips the flag


def to_record(row: Any) -> TaskRecord:
    return TaskRecord(*row)


class MissingDueDate(Exception):
    """The write would leave a recurring task without a due date (the table's CHECK refused it)."""


def run(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Execute a Core statement on the session's connection (no ORM layer on the way)."""
    try:
        return session.connection().execute(statement, params)
    except IntegrityError as error:
        diag = getattr(error.orig, "diag", None)
        if getattr(diag, "constraint_name", None) == RECURRENCE_NEEDS_DUE_AT:
            raise MissingDueDate from None
        raise


def live(alias: Any = tasks) -> ColumnElement[bool]:
    """Not a tombstone. Every task read and write goes through this one condition: a deleted task
    is gone for every route (the tombstone stays only for sync)."""
    condition: ColumnElement[bool] = alias.c.deleted_at.is_(None)
    return condition


def _owner(alias: Any = tasks) -> list[ColumnElement[bool]]:
    """The caller's live tasks."""
    return [alias.c.user_id == bindparam("owner_id"), live(alias)]


def live_owned() -> list[ColumnElement[bool]]:
    """The caller's live tasks, for any statement over them (sync, batch)."""
    return _owner()


def owned() -> list[ColumnElement[bool]]:
    """One of the caller's live tasks, by id."""
    return [tasks.c.id == bindparam("task_id"), *_owner()]


# Which constraint a refused link broke, and the body field it is about (migration 0002's trigger
# and composite keys). One message per field, whether the row is foreign, deleted or unknown.
_LINK_FIELDS = {
    "tasks_list_live": "list_id",
    "tasks_list_fkey": "list_id",
    "tasks_parent_same_list": "list_id",
    "tasks_parent_top_level": "parent_id",
    "tasks_parent_fkey": "parent_id",
    "tasks_one_level": "parent_id",
}
LINK_MESSAGES = {
    "list_id": "must be one of your lists (a subtask is in its parent's list)",
    "parent_id": "must be one of your top-level tasks, and a task with subtasks cannot become a subtask",
    "after_id": "must be another of your tasks in the same list and under the same parent",
}
_FOREIGN_KEY_VIOLATION = "23503"


def invalid_reference(field: str) -> InvalidReference:
    return InvalidReference(field, LINK_MESSAGES[field])


def write(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Run a task write; a refused link (list, parent) becomes InvalidReference on its field."""
    try:
        return run(session, statement, params)
    except IntegrityError as error:
        orig = getattr(error, "orig", None)
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        if getattr(orig, "pgcode", None) == _FOREIGN_KEY_VIOLATION and constraint in _LINK_FIELDS:
            raise invalid_reference(_LINK_FIELDS[constraint]) from None
        raise


def parent_list() -> Any:
    """The list of the parent named by `parent_ref` (a subtask follows its parent's list). Bound
    parameters of an UPDATE are never named after a column: those would also be SET."""
    parent = tasks.alias("parent")
    return select(parent.c.list_id).where(parent.c.id == bindparam("parent_ref"), *_owner(parent)).scalar_subquery()


def scope_of(list_expr: Any, parent_expr: Any, exclude: Any = None) -> Any:
    """The live tasks of the scope (user, list, parent) these expressions name, for any alias."""

    def scope(row: Any) -> ColumnElement[bool]:
        clauses = [
            *_owner(row),
            func.coalesce(row.c.list_id, 0) == func.coalesce(list_expr, 0),
            func.coalesce(row.c.parent_id, 0) == func.coalesce(parent_expr, 0),
        ]
        if exclude is not None:
            clauses.append(row.c.id != exclude)
        return and_(*clauses)

    return scope


def guarded(by_version: bool) -> list[ColumnElement[bool]]:
    clauses = owned()
    if by_version:
        clauses.append(tasks.c.version.in_(bindparam("versions", expanding=True)))
    return clauses


def completion_changes(completed: bool | str) -> dict[str, Any]:
    """completed_at follows completed: set when it turns true (kept if already true), cleared when false.
    last_completed_at is set when it turns true, and kept otherwise."""
    if completed == TOGGLE:
        return {
            "completed": ~tasks.c.completed,
            "completed_at": case((tasks.c.completed, None), else_=func.now()),
            "last_completed_at": case((tasks.c.completed, tasks.c.last_completed_at), else_=func.now()),
        }
    if completed:
        return {
            "completed": true(),
            "completed_at": func.coalesce(tasks.c.completed_at, func.now()),
            "last_completed_at": case((tasks.c.completed, tasks.c.last_completed_at), else_=func.now()),
        }
    return {"completed": false(), "completed_at": None}


def _recurrence_start(fields: tuple[str, ...]) -> dict[str, Any]:
    """recurrence_start when a write sends `recurrence`: the (new) due date when the rule is new,
    changed, or sent with a due date that moved; kept when the same rule comes back; NULL without one.
    A write that moves only `due_at` keeps it: COUNT goes on counting from where the rule began."""
    if "recurrence" not in fields:
        return {}
    rule = bindparam("set_recurrence", type_=tasks.c.recurrence.type)
    due = bindparam("set_due_at", type_=tasks.c.due_at.type) if "due_at" in fields else tasks.c.due_at
    start = case(
        (rule.is_(None), null()),
        (or_(tasks.c.recurrence.is_distinct_from(rule), tasks.c.due_at.is_distinct_from(due)), due),
        else_=tasks.c.recurrence_start,
    )
    return {"recurrence_start": start}


@dataclass(frozen=True)
class InsertShape:
    """Everything that decides an INSERT's SQL: the fields set, completion, placement."""

    fields: tuple[str, ...]
    completed: bool
    place: Place = Place.last
    list_from_parent: bool = False  # no list_id sent, a parent_id was: the parent's list


@cache
def insert_shape(shape: InsertShape) -> Any:
    """INSERT ... SELECT ... RETURNING the row (owner_id bound as well). A placed task's key is
    computed from its neighbours in the same statement; an `after_id` that is not in the new
    task's scope inserts nothing."""

    def bound(name: str) -> Any:
        return cast(bindparam(name, type_=tasks.c[name].type), tasks.c[name].type)

    values: dict[str, Any] = {name: bound(name) for name in shape.fields}
    values.update(
        user_id=bindparam("owner_id", type_=tasks.c.user_id.type),
        completed=true() if shape.completed else false(),
        completed_at=func.now() if shape.completed else cast(null(), tasks.c.completed_at.type),
        last_completed_at=func.now() if shape.completed else cast(null(), tasks.c.last_completed_at.type),
    )
    if shape.list_from_parent:
        values["list_id"] = parent_list()  # reads parent_ref
    scope = scope_of(values.get("list_id"), values.get("parent_id"))
    key = placed_key(tasks, shape.place, scope)
    if key is not None:
        values["position"] = key
    rows = select(*values.values())
    if shape.place is Place.after:
        rows = rows.where(after_exists(tasks, scope))
    return insert(tasks).from_select(list(values), rows).returning(*tasks.c).execution_options(**SERIALISED)


def insert_params(
    owner_id: str, values: dict[str, Any], place: Place = Place.last, after_id: int | None = None
) -> tuple[InsertShape, dict[str, Any]]:
    """The shape of the INSERT for these values and their placement, and its parameters."""
    fields = tuple(sorted(k for k in values if k != "completed"))
    params = {k: values[k] for k in fields} | {"owner_id": owner_id}
    list_from_parent = "list_id" not in values and values.get("parent_id") is not None
    if list_from_parent:
        params["parent_ref"] = values["parent_id"]
    if place is Place.after:
        params["after_id"] = after_id
    return InsertShape(fields, bool(values.get("completed")), place, list_from_parent), params


def insert_task(
    session: Session, *, owner_id: str, values: dict[str, Any], place: Place = Place.last, after_id: int | None = None
) -> TaskRecord | None:
    """The created task; None when `after_id` names no task of the new task's scope."""
    shape, params = insert_params(owner_id, values, place, after_id)
    row = write(session, insert_shape(shape), params).one_or_none()
    return None if row is None else to_record(row)


_GET = select(tasks).where(*owned())
VERSION = select(tasks.c.version).where(*owned())  # the live task's version: tells 404 from 412


def get_task(session: Session, *, owner_id: str, task_id: int) -> TaskRecord | None:
    row = run(session, _GET, {"task_id": task_id, "owner_id": owner_id}).one_or_none()
    return None if row is None else to_record(row)


def task_version(session: Session, *, owner_id: str, task_id: int) -> int | None:
    version: int | None = run(session, VERSION, {"task_id": task_id, "owner_id": owner_id}).scalar_one_or_none()
    return version


def with_subtasks_following(changed: Any) -> Any:
    """The UPDATE `changed` (RETURNING the task) plus, in the same statement, its live subtasks
    moved to the task's new list: a subtask is always in its parent's list. They are written after
    the parent (they read its result), so the trigger's check sees the parent's new list."""
    moved = changed.cte("moved")
    follow = (
        update(tasks)
        .where(
            *_owner(),
            tasks.c.parent_id == moved.c.id,
            tasks.c.list_id.is_distinct_from(moved.c.list_id),
        )
        .values(list_id=moved.c.list_id, updated_at=func.now(), version=tasks.c.version + 1)
        .cte("subtasks_moved")
    )
    return select(moved).add_cte(follow).execution_options(**SERIALISED)


@dataclass(frozen=True)
class UpdateShape:
    fields: tuple[str, ...]
    completed: bool | str | None
    guarded: bool
    list_from_parent: bool = False


@cache
def _update(shape: UpdateShape) -> Any:
    changes: dict[str, Any] = {name: bindparam(f"set_{name}", type_=tasks.c[name].type) for name in shape.fields}
    if shape.list_from_parent:
        changes["list_id"] = parent_list()
    changes.update(_recurrence_start(shape.fields))
    if shape.completed is not None:
        changes.update(completion_changes(shape.completed))
    changes.update(updated_at=func.now(), version=tasks.c.version + 1)
    statement = update(tasks).where(*guarded(shape.guarded))
    if "list_id" not in changes and "parent_id" not in changes:
        return statement.values(changes).returning(*tasks.c).execution_options(**SERIALISED)
    new_list = changes.get("list_id", tasks.c.list_id)
    new_parent = changes.get("parent_id", tasks.c.parent_id)
    same_scope = and_(
        func.coalesce(new_list, 0) == func.coalesce(tasks.c.list_id, 0),
        func.coalesce(new_parent, 0) == func.coalesce(tasks.c.parent_id, 0),
    )
    # A task that changes scope goes to the end of its new one (a NULL key: the trigger appends).
    changes["position"] = case((same_scope, tasks.c.position), else_=null())
    return with_subtasks_following(statement.values(changes).returning(*tasks.c))


def update_statement(
    *, owner_id: str, task_id: Any, values: dict[str, Any], versions: tuple[int, ...] | None
) -> tuple[Any, dict[str, Any]]:
    """The UPDATE ... RETURNING that applies `values` (a `completed` entry may be True, False or
    TOGGLE), and its parameters. A `parent_id` without a `list_id` puts the task in the parent's list."""
    fields = tuple(sorted(k for k in values if k != "completed"))
    list_from_parent = "list_id" not in values and values.get("parent_id") is not None
    statement = _update(UpdateShape(fields, values.get("completed"), versions is not None, list_from_parent))
    params = {f"set_{k}": values[k] for k in fields} | {"task_id": task_id, "owner_id": owner_id}
    if list_from_parent:
        params["parent_ref"] = values["parent_id"]
    if versions is not None:
        params["versions"] = list(versions)
    return statement, params


def update_task(
    session: Session, *, owner_id: str, task_id: int, values: dict[str, Any], versions: tuple[int, ...] | None = None
) -> TaskRecord | None:
    """Apply `values`. None when no row matched."""
    statement, params = update_statement(owner_id=owner_id, task_id=task_id, values=values, versions=versions)
    row = write(session, statement, params).one_or_none()
    return None if row is None else to_record(row)


def tombstone(alias: Any = tasks) -> dict[str, Any]:
    """What deleting writes: the row stays, marked (the trigger gives its position up)."""
    return {"deleted_at": func.now(), "updated_at": func.now(), "version": alias.c.version + 1}


@cache
def delete_statement(by_version: bool) -> Any:
    """The task and its subtasks become tombstones in one statement (sync reports them; pruned
    after 30 days). The guard (owner, live, If-Match) is on the task; its subtasks go only when it does."""
    gone = update(tasks).where(*guarded(by_version)).values(tombstone()).returning(tasks.c.id).cte("gone")
    subtasks = update(tasks).where(*_owner(), tasks.c.parent_id == gone.c.id).values(tombstone()).cte("subtasks_gone")
    return select(gone.c.id).add_cte(subtasks).execution_options(**SERIALISED)


def delete_task(session: Session, *, owner_id: str, task_id: int, versions: tuple[int, ...] | None = None) -> bool:
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id}
    if versions is not None:
        params["versions"] = list(versions)
    return run(session, delete_statement(versions is not None), params).first() is not None


_INFINITY: ColumnElement[Any] = literal_column("'infinity'::timestamptz")
_MINUS_INFINITY: ColumnElement[Any] = literal_column("'-infinity'::timestamptz")


@dataclass(frozen=True)
class SortKey:
    """How a sort orders: `key(source)`, an SQL expression over one stored value.

    A page resumes from the `source` value of its last row, as the database itself wrote it (its
    JSON text, so timestamps are ISO 8601 whatever the session's DateStyle), and the database
    applies the same `key` to it: a cursor never holds a key computed anywhere else (Python's
    `str.lower()` disagrees with PostgreSQL's `lower()`), so the page bound compares exactly like
    ORDER BY. `key` must never be NULL (coalesce nullable sources).
    """

    source: ColumnElement[Any]
    key: Callable[[ColumnElement[Any]], ColumnElement[Any]] = lambda value: value

    def ordered(self) -> ColumnElement[Any]:
        return self.key(self.source)

    def resumed_at(self, text_param: ColumnElement[Any]) -> ColumnElement[Any]:
        """The key of a source value given as its text (a cursor's). Text needs no cast (and a
        cast would drop nothing but a column's collation, such as position's "C", which the
        comparison then takes from the column)."""
        if isinstance(self.source.type, String):
            return self.key(text_param)
        return self.key(cast(text_param, self.source.type))

    def source_text(self) -> ColumnElement[Any]:
        return type_coerce(func.to_json(self.source).op("#>>")(literal_column("'{}'")), Text)


def _sort_key(field: SortField, descending: bool) -> SortKey:
    """Each sort's key; each one matches an index on (user_id, key, id)."""
    if field is SortField.due_at:
        # Tasks without a due date come last in both directions.
        missing = _MINUS_INFINITY if descending else _INFINITY
        return SortKey(tasks.c.due_at, lambda value: func.coalesce(value, missing))
    if field is SortField.title:
        return SortKey(tasks.c.title, func.lower)
    if field is SortField.priority:
        return SortKey(type_coerce(tasks.c.priority, SmallInteger))
    return SortKey(tasks.c[field.value])


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
    # In the form of the position index's columns, so a scoped sort=position page is its range scan.
    "list_scope": ListFilter(func.coalesce(tasks.c.list_id, 0) == bindparam("list_scope"), lambda v: {"list_scope": v}),
    "parent_scope": ListFilter(
        func.coalesce(tasks.c.parent_id, 0) == bindparam("parent_scope"), lambda v: {"parent_scope": v}
    ),
}
_parent = tasks.alias("parent")
# A parent's subtasks are in its list: naming the parent names the whole scope.
_PARENTS_LIST = func.coalesce(tasks.c.list_id, 0) == func.coalesce(
    select(_parent.c.list_id).where(_parent.c.id == bindparam("parent_scope"), *_owner(_parent)).scalar_subquery(), 0
)
_STATUS = {
    Status.all: None,
    Status.pending: tasks.c.completed.is_(false()),
    Status.completed: tasks.c.completed.is_(true()),
}


class Start(enum.Enum):
    """Where a page starts: at the beginning, or right after a row (its sort source and id)."""

    first = "first"
    after_row = "after_row"


@dataclass(frozen=True)
class ListShape:
    """Everything that decides a listing's SQL, not its parameter values: one statement per shape."""

    status: Status
    filters: frozenset[str]
    sort: Sort
    start: Start
    list_from_parent: bool = False  # parent_id=<id> without list_id: the list is the parent's

    @property
    def one_scope(self) -> bool:
        """The filters name one scope (user, list, parent), where positions are unique."""
        return "parent_scope" in self.filters and ("list_scope" in self.filters or self.list_from_parent)

    @classmethod
    def of(cls, query: TaskQuery, after: After | None) -> ListShape:
        start = Start.first if after is None else Start.after_row
        filters = frozenset(name for name in LIST_FILTERS if getattr(query, name) not in (None, ()))
        list_from_parent = query.list_scope is None and (query.parent_scope or 0) > 0
        return cls(query.status, filters, query.sort, start, list_from_parent)


@cache
def _list(shape: ListShape) -> Any:
    clauses: list[ColumnElement[bool]] = _owner()
    status = _STATUS[shape.status]
    if status is not None:
        clauses.append(status)
    clauses += [LIST_FILTERS[name].clause for name in LIST_FILTERS if name in shape.filters]
    if shape.list_from_parent:
        clauses.append(_PARENTS_LIST)
    descending = shape.sort.descending
    sort_key = _sort_key(shape.sort.field, descending)
    key = sort_key.ordered()
    # Within one scope positions are unique: the key alone orders, as the scope's index does.
    by_key_alone = shape.sort.field is SortField.position and shape.one_scope
    if shape.start is Start.after_row:
        value = sort_key.resumed_at(bindparam("after_value", type_=Text))
        if by_key_alone:
            clauses.append(key < value if descending else key > value)
        else:
            bound, start = tuple_(key, tasks.c.id), tuple_(value, bindparam("after_id"))
            clauses.append(bound < start if descending else bound > start)
    if by_key_alone:
        order: tuple[Any, ...] = (key.desc(),) if descending else (key.asc(),)
    else:
        order = (key.desc(), tasks.c.id.desc()) if descending else (key.asc(), tasks.c.id.asc())
    columns = [*tasks.c, sort_key.source_text().label("sort_source")]
    return select(*columns).where(and_(*clauses)).order_by(*order).limit(bindparam("limit"))


class Listed(NamedTuple):
    """A listed task, and where a page that ends with it resumes (its sort source, as text)."""

    task: TaskRecord
    sort_source: str | None


def list_tasks(session: Session, *, owner_id: str, query: TaskQuery, after: After | None, limit: int) -> list[Listed]:
    """One keyset page: a range scan that starts right after `after`, never an offset."""
    shape = ListShape.of(query, after)
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
    if after is not None:
        params.update(after_value=after.sort_source, after_id=after.task_id)
    if shape.list_from_parent:
        params["parent_scope"] = query.parent_scope
    for name in shape.filters:
        params.update(LIST_FILTERS[name].params(getattr(query, name)))
    return [Listed(to_record(row[:-1]), row[-1]) for row in run(session, _list(shape), params)]


_pending = tasks.c.completed.is_(false())
_STATS = select(
    func.count().label("total"),
    func.count().filter(_pending).label("pending"),
    func.count().filter(tasks.c.completed.is_(true())).label("completed"),
    func.count().filter(and_(_pending, tasks.c.due_at < func.now())).label("overdue"),
).where(*_owner())


def task_stats(session: Session, *, owner_id: str) -> TaskStats:
    return TaskStats(**run(session, _STATS, {"owner_id": owner_id}).one()._mapping)

"""SQL for lists. Every function takes the owner as a required keyword and scopes by it; each is
one statement (the rebalance after a long key is the one exception: a second message)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.errors import Conflict
from shared.models.lists import ListRecord, lists
from shared.models.table import tasks
from shared.repositories.positions import SERIALISED, Place, after_exists, placed_key, rebalance, rebalance_statement
from shared.repositories.tasks import run, tombstone

_UNIQUE_VIOLATION = "23505"
_NAME_INDEX = "ux_lists_user_name"


def to_record(row: Any) -> ListRecord:
    return ListRecord(*row)


def _owner(alias: Any = lists) -> list[ColumnElement[bool]]:
    """The caller's live lists (a deleted list is gone for every route)."""
    return [alias.c.user_id == bindparam("owner_id"), alias.c.deleted_at.is_(None)]


def _owned(guarded: bool = False) -> list[ColumnElement[bool]]:
    clauses = [lists.c.id == bindparam("list_ref"), *_owner()]
    if guarded:
        clauses.append(lists.c.version.in_(bindparam("versions", expanding=True)))
    return clauses


def _params(owner_id: str, list_id: int | None = None, versions: tuple[int, ...] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"owner_id": owner_id}
    if list_id is not None:
        params["list_ref"] = list_id
    if versions is not None:
        params["versions"] = list(versions)
    return params


def _named(session: Session, statement: Any, params: dict[str, Any]) -> Any:
    """Run a write that sets a name: a live list of the same name (any case) is a 409."""
    try:
        return run(session, statement, params)
    except IntegrityError as error:
        orig = getattr(error, "orig", None)
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        if getattr(orig, "pgcode", None) == _UNIQUE_VIOLATION and constraint == _NAME_INDEX:
            raise Conflict("you already have a list with this name") from None
        raise


_INSERT = (
    insert(lists)
    .values(user_id=bindparam("owner_id"), name=bindparam("name"))
    .returning(*lists.c)
    .execution_options(**SERIALISED)
)  # no key: the trigger puts a new list at the end


def insert_list(session: Session, *, owner_id: str, name: str) -> ListRecord:
    return to_record(_named(session, _INSERT, _params(owner_id) | {"name": name}).one())


_GET = select(lists).where(*_owned())
_VERSION = select(lists.c.version).where(*_owned())
_ALL = select(lists).where(*_owner()).order_by(lists.c.position)


def get_list(session: Session, *, owner_id: str, list_id: int) -> ListRecord | None:
    row = run(session, _GET, _params(owner_id, list_id)).one_or_none()
    return None if row is None else to_record(row)


def list_version(session: Session, *, owner_id: str, list_id: int) -> int | None:
    version: int | None = run(session, _VERSION, _params(owner_id, list_id)).scalar_one_or_none()
    return version


def list_lists(session: Session, *, owner_id: str) -> list[ListRecord]:
    return [to_record(row) for row in run(session, _ALL, _params(owner_id))]


@cache
def _rename(guarded: bool) -> Any:
    changes = {"name": bindparam("name"), "updated_at": func.now(), "version": lists.c.version + 1}
    return update(lists).where(*_owned(guarded)).values(changes).returning(*lists.c).execution_options(**SERIALISED)


def update_list(
    session: Session, *, owner_id: str, list_id: int, name: str | None, versions: tuple[int, ...] | None = None
) -> ListRecord | None:
    """Rename the list (with no name, only a new version and updated_at); None when no row matched."""
    params = _params(owner_id, list_id, versions)
    if name is not None:
        params["name"] = name
    statement = _rename(versions is not None) if name is not None else _touch(versions is not None)
    row = _named(session, statement, params).one_or_none()
    return None if row is None else to_record(row)


@cache
def _touch(guarded: bool) -> Any:
    changes = {"updated_at": func.now(), "version": lists.c.version + 1}
    return update(lists).where(*_owned(guarded)).values(changes).returning(*lists.c).execution_options(**SERIALISED)


@cache
def _delete(guarded: bool) -> Any:
    """The list and every task in it (subtasks included) become tombstones in one statement."""
    gone = update(lists).where(*_owned(guarded)).values(tombstone(lists)).returning(lists.c.id).cte("gone")
    its_tasks = (
        update(tasks)
        .where(tasks.c.user_id == bindparam("owner_id"), tasks.c.deleted_at.is_(None), tasks.c.list_id == gone.c.id)
        .values(tombstone())
        .cte("tasks_gone")
    )
    return select(gone.c.id).add_cte(its_tasks).execution_options(**SERIALISED)


def delete_list(session: Session, *, owner_id: str, list_id: int, versions: tuple[int, ...] | None = None) -> bool:
    return run(session, _delete(versions is not None), _params(owner_id, list_id, versions)).first() is not None


def _scope(row: Any) -> ColumnElement[bool]:
    """The caller's other live lists: a list's scope is its owner."""
    return and_(*_owner(row), row.c.id != lists.c.id)


@cache
def _move(place: Place, guarded: bool) -> Any:
    changes = {"position": placed_key(lists, place, _scope), "updated_at": func.now(), "version": lists.c.version + 1}
    statement = update(lists).where(*_owned(guarded))
    if place is Place.after:
        statement = statement.where(after_exists(lists, _scope))
    return statement.values(changes).returning(*lists.c).execution_options(**SERIALISED)


def move_list(
    session: Session, *, owner_id: str, list_id: int, after_id: int | None, versions: tuple[int, ...] | None = None
) -> ListRecord | None:
    """Place the list right after `after_id` (None: first). None when nothing matched."""
    place = Place.first if after_id is None else Place.after
    params = _params(owner_id, list_id, versions)
    if after_id is not None:
        params["after_id"] = after_id
    row = run(session, _move(place, versions is not None), params).one_or_none()
    return None if row is None else to_record(row)


_REBALANCE = rebalance_statement(lists, "user_id = :owner_id AND deleted_at IS NULL")


def rebalance_lists(session: Session, *, owner_id: str, list_id: int) -> ListRecord | None:
    row = rebalance(session, _REBALANCE, {"owner_id": owner_id, "row_id": list_id})
    return None if row is None else to_record(row)

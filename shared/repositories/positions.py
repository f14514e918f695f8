"""Manual order, shared by tasks and lists: the keys a write computes inside its own statement,
the lock that serialises a user's writes, and the rebalance of a scope whose keys grew long.

Keys are fractional indexes (`fi_key_between`, installed by migration 0002): a write reads its
neighbours and writes its key in ONE statement. The write trigger moves a key that a concurrent
write took in the meantime right after it, so two moves to one spot both land.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, exists, func, select, text
from sqlmodel import Session

from shared.db import SAME_MESSAGE_PREFIX

# Every write of a user's rows first takes that user's change-counter row, in the same message.
# The trigger takes it too, but only once a row is already locked: a statement that writes more
# than one row (a task and its subtasks, a list and its tasks) could then deadlock with a write
# of one of those rows. Taken first, the lock orders all of a user's writes the same way, and the
# statement's snapshot (taken after it) sees every write of that user that committed before.
OWNER_LOCK = "SELECT 1 FROM sync_state WHERE user_id = %(owner_id)s FOR UPDATE; "
SERIALISED = {SAME_MESSAGE_PREFIX: OWNER_LOCK}

Scope = Callable[[Any], ColumnElement[bool]]  # the live rows of the target scope, for an alias of the table


class Place(enum.Enum):
    """Where a created or moved row goes in its scope."""

    last = "last"  # no key written: the trigger appends it
    first = "first"
    after = "after"  # right after the row named by the `after_id` parameter


def first_key(table: Table, scope: Scope) -> ColumnElement[Any]:
    following = table.alias("following")
    first = select(func.min(following.c.position)).where(scope(following)).correlate_except(following)
    return func.fi_key_between(None, first.scalar_subquery())


def after_position(table: Table, scope: Scope) -> ColumnElement[Any]:
    after = table.alias("after")
    # Correlated explicitly: nested in another subquery, it still reads the written row.
    return (
        select(after.c.position)
        .where(after.c.id == bindparam("after_id"), scope(after))
        .correlate_except(after)
        .scalar_subquery()
    )


def after_exists(table: Table, scope: Scope) -> ColumnElement[bool]:
    after = table.alias("after")
    return exists().where(after.c.id == bindparam("after_id"), scope(after)).correlate_except(after)


def key_after(table: Table, scope: Scope) -> ColumnElement[Any]:
    """The key between the `after_id` row and the next one of the scope."""
    position = after_position(table, scope)
    following = table.alias("following")
    next_position = (
        select(func.min(following.c.position))
        .where(scope(following), following.c.position > position)
        .scalar_subquery()
    )
    return func.fi_key_between(position, next_position)


def placed_key(table: Table, place: Place, scope: Scope) -> ColumnElement[Any] | None:
    """The key a write at `place` stores (None: leave it to the trigger)."""
    if place is Place.first:
        return first_key(table, scope)
    if place is Place.after:
        return key_after(table, scope)
    return None


def rebalance_statement(table: Table, scope_sql: str) -> Any:
    """Rewrite the scope's keys to the shortest ones in the same order (fi_nth_key), returning
    the row named by `row_id`. One message: the owner lock, the rebalancing flag (the trigger then
    keeps keys as written), every key moved out of the way ('~' sorts after every key and keeps
    their order), then the new keys, so the unique index never sees two rows with one key."""
    columns = ", ".join(f"{table.name}.{c.name}" for c in table.c)
    # Only the table's own names and this module's scope clauses go into the text: no input.
    sql = f"""
        SET LOCAL tasks_api.rebalancing = 'on';
        UPDATE {table.name} SET position = '~' || position WHERE {scope_sql};
        WITH ranked AS (
            SELECT id, row_number() OVER (ORDER BY position) - 1 AS n FROM {table.name} WHERE {scope_sql}
        ), rewritten AS (
            UPDATE {table.name} SET position = fi_nth_key(ranked.n), version = version + 1, updated_at = now()
            FROM ranked WHERE {table.name}.id = ranked.id
            RETURNING {columns}
        )
        SELECT * FROM rewritten WHERE id = :row_id
    """  # noqa: S608
    return text(sql).columns(*table.c).execution_options(**SERIALISED)


def rebalance(session: Session, statement: Any, params: dict[str, Any]) -> Any:
    """The rebalanced row, or None if it left the scope meanwhile."""
    return session.connection().execute(statement, params).one_or_none()

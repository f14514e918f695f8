"""SQL for sync: one statement per page reads the user's change counter and the rows changed
after a position, in change order (tasks and lists share the counter, so the order is total).

Each branch is a range scan of its (user_id, change_seq) index that stops after `limit` rows and
carries the whole row; both are gated on the counter (a one-time filter), so an unchanged poll
reads the counter row and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, literal, null, select, true, type_coerce, union_all
from sqlmodel import Session

from shared.models.lists import ListRecord, lists
from shared.models.sync_state import sync_state
from shared.models.table import tasks
from shared.models.task import TaskRecord
from shared.repositories.tasks import live_owned, run

TASK, LIST = "task", "list"


@dataclass(frozen=True)
class Changes:
    seq: int  # the user's change counter as the page's snapshot saw it
    pruned_seq: int
    # (change_seq, record) in change order, tombstones included (deleted_at set)
    rows: list[tuple[int, TaskRecord | ListRecord]]


def _changed(table: Table, kind: str, state: Any, full: bool) -> Any:
    """The rows of one table changed after `since`, in change order: every column of both tables
    (the other table's as NULLs), so a page needs no second read of the rows it found."""
    owner = table.c.user_id == bindparam("owner_id")
    live = live_owned() if table is tasks else [owner, lists.c.deleted_at.is_(None)]
    # Pseudo-constant conditions on the counter: evaluated once, before any row is read.
    gate = [
        select(state.c.seq).scalar_subquery() > bindparam("since"),
        select(state.c.pruned_seq).scalar_subquery() <= bindparam("floor"),
    ]
    columns = [
        (c if source is table else type_coerce(null(), c.type)).label(f"{source.name}_{c.name}")
        for source in (tasks, lists)
        for c in source.c
    ]
    return (
        select(literal(kind).label("kind"), table.c.change_seq.label("position"), *columns)
        .where(*(live if full else [owner]), table.c.change_seq > bindparam("since"), *gate)
        .order_by(table.c.change_seq)
        .limit(bindparam("limit"))
    )


@cache
def _page(full: bool) -> Any:
    state = (
        select(sync_state.c.seq, sync_state.c.pruned_seq)
        .where(sync_state.c.user_id == bindparam("owner_id"))
        .cte("state")
    )
    changed = union_all(_changed(tasks, TASK, state, full), _changed(lists, LIST, state, full)).subquery("changed")
    page = select(changed).order_by(changed.c.position).limit(bindparam("limit")).subquery("page")
    return (
        select(state.c.seq, state.c.pruned_seq, *page.c)
        .select_from(state.outerjoin(page, true()))
        .order_by(page.c.position)
    )


_TASK_COLUMNS = slice(4, 4 + len(tasks.c))
_LIST_COLUMNS = slice(4 + len(tasks.c), None)


def changes(session: Session, *, owner_id: str, since: int, floor: int, limit: int, full: bool) -> Changes:
    """Up to `limit` rows changed after `since` (a full sync: live rows only), unless the counter
    says nothing changed or tombstones past `floor` were pruned (then no row is read)."""
    params = {"owner_id": owner_id, "since": since, "floor": floor, "limit": limit}
    result = run(session, _page(full), params).all()
    if not result:
        return Changes(0, 0, [])  # a user who never wrote anything has no counter yet
    rows: list[tuple[int, TaskRecord | ListRecord]] = []
    for row in result:
        if row[2] == TASK:
            rows.append((row[3], TaskRecord(*row[_TASK_COLUMNS])))
        elif row[2] == LIST:
            rows.append((row[3], ListRecord(*row[_LIST_COLUMNS])))
    return Changes(result[0][0], result[0][1], rows)

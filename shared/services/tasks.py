"""Task use cases: the rules, with no HTTP in them.

Every write is a single atomic statement (the engine runs in autocommit), so a request either
changes exactly what it says or nothing; there is no separate commit step to fail after a reply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlmodel import Session

from shared.cursor import decode_cursor, encode_cursor
from shared.errors import IdempotencyInProgress, IdempotencyKeyReused, NotFound, PreconditionFailed
from shared.models.listing import TaskQuery
from shared.models.task import TaskRecord, TaskStats
from shared.models.task_input import TaskCreate, TaskReplace, TaskUpdate
from shared.repositories import idempotency as keys_repo
from shared.repositories import tasks as repo

# The versions a conditional write accepts (the task must still have one of them); None when
# the write is unconditional.
Versions = tuple[int, ...] | None


@dataclass(frozen=True)
class Page:
    items: list[TaskRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class Created:
    task: TaskRecord
    replayed: bool


MAX_TASK_ID = 2**63 - 1


def _not_found(task_id: int) -> NotFound:
    return NotFound(f"task {task_id} does not exist")


def _check_id(task_id: int) -> None:
    # Ids are positive bigints: anything else names no task, and must not reach SQL as an overflow.
    if not 0 < task_id <= MAX_TASK_ID:
        raise _not_found(task_id)


def request_hash(body: Any) -> str:
    """Same JSON value, same hash: key order and whitespace do not matter.

    Total over every value a JSON parser returns: a lone surrogate (a valid `\\udXXX` escape,
    even in an ignored field) is encoded as itself (`surrogatepass` leaves every valid string's
    bytes, and so every stored hash, unchanged), and a value nested too deep for the C encoder
    is serialised to the same text without recursion."""
    try:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        canonical = _canonical_json(body)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class _Text(str):
    """Already serialised output on the work stack (a plain str there is a JSON string value)."""


def _canonical_json(value: Any) -> str:
    """json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) with an
    explicit stack instead of recursion."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            pending: list[Any] = [_Text("{")]
            for n, key in enumerate(sorted(item)):
                pending += [_Text(("," if n else "") + json.dumps(key, ensure_ascii=False) + ":"), item[key]]
            stack += reversed([*pending, _Text("}")])
        elif isinstance(item, list | tuple):
            pending = [_Text("[")]
            for n, element in enumerate(item):
                pending += [_Text(",")] if n else []
                pending.append(element)
            stack += reversed([*pending, _Text("]")])
        else:
            out.append(json.dumps(item, ensure_ascii=False))
    return "".join(out)


def create_task(
    session: Session,
    *,
    owner_id: str,
    task_in: TaskCreate,
    idempotency_key: str | None = None,
    body_hash: str | None = None,
) -> Created:
    values = task_in.model_dump()
    if idempotency_key is None:
        return Created(repo.insert_task(session, owner_id=owner_id, values=values), replayed=False)
    assert body_hash is not None
    for _ in range(3):
        task = keys_repo.insert_task_with_key(
            session, owner_id=owner_id, values=values, key=idempotency_key, request_hash=body_hash
        )
        if task is not None:
            return Created(task, replayed=False)
        found = keys_repo.find_key(session, owner_id=owner_id, key=idempotency_key)
        if found is None:
            continue  # swept between the two statements: claim it again
        if not found.live:
            keys_repo.delete_expired_key(session, owner_id=owner_id, key=idempotency_key)
            continue
        if found.request_hash != body_hash:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body")
        return Created(found.task, replayed=True)
    raise IdempotencyInProgress("a request with this Idempotency-Key is still being processed")


def get_task(session: Session, *, owner_id: str, task_id: int) -> TaskRecord:
    _check_id(task_id)
    task = repo.get_task(session, owner_id=owner_id, task_id=task_id)
    if task is None:
        raise _not_found(task_id)
    return task


def list_tasks(
    session: Session, *, owner_id: str, query: TaskQuery, cursor: str | None, limit: int, cursor_key: bytes
) -> Page:
    after = decode_cursor(cursor_key, cursor, owner_id=owner_id, query=query) if cursor else None
    rows = repo.list_tasks(session, owner_id=owner_id, query=query, after=after, limit=limit + 1)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(
            cursor_key, owner_id=owner_id, query=query, sort_value=repo.cursor_value(last, query), task_id=last.id
        )
    return Page(items, next_cursor)


def _write(session: Session, *, owner_id: str, task_id: int, values: dict[str, Any], versions: Versions) -> TaskRecord:
    _check_id(task_id)
    task = repo.update_task(session, owner_id=owner_id, task_id=task_id, values=values, versions=versions)
    if task is None:
        _raise_missing_or_stale(session, owner_id=owner_id, task_id=task_id, versions=versions)
    return task


def _raise_missing_or_stale(session: Session, *, owner_id: str, task_id: int, versions: Versions) -> NoReturn:
    # Only on the failure path: tell "not yours / gone" (404) from "changed since you read it" (412).
    if versions is None or repo.task_version(session, owner_id=owner_id, task_id=task_id) is None:
        raise _not_found(task_id)
    raise PreconditionFailed("the task has changed since the ETag in If-Match was issued")


def replace_task(
    session: Session, *, owner_id: str, task_id: int, task_in: TaskReplace, versions: Versions = None
) -> TaskRecord:
    return _write(session, owner_id=owner_id, task_id=task_id, values=task_in.model_dump(), versions=versions)


def update_task(
    session: Session, *, owner_id: str, task_id: int, task_in: TaskUpdate, versions: Versions = None
) -> TaskRecord:
    values = task_in.model_dump(exclude_unset=True)
    return _write(session, owner_id=owner_id, task_id=task_id, values=values, versions=versions)


def complete_task(
    session: Session, *, owner_id: str, task_id: int, completed: bool | None, versions: Versions = None
) -> TaskRecord:
    """`completed=None` toggles; True or False sets."""
    value = repo.TOGGLE if completed is None else completed
    return _write(session, owner_id=owner_id, task_id=task_id, values={"completed": value}, versions=versions)


def delete_task(session: Session, *, owner_id: str, task_id: int, versions: Versions = None) -> None:
    _check_id(task_id)
    if not repo.delete_task(session, owner_id=owner_id, task_id=task_id, versions=versions):
        _raise_missing_or_stale(session, owner_id=owner_id, task_id=task_id, versions=versions)


def task_stats(session: Session, *, owner_id: str) -> TaskStats:
    return repo.task_stats(session, owner_id=owner_id)

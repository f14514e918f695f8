"""Task use cases: the rules, with no HTTP in them.

Every write is a single atomic statement (the engine runs in autocommit), so a request either
changes exactly what it says or nothing; there is no separate commit step to fail after a reply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from sqlmodel import Session

from shared.cursor import decode_cursor, encode_cursor
from shared.errors import (
    EditConflict,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidField,
    NotFound,
    PreconditionFailed,
)
from shared.models.limits import POSITION_KEY_MAX
from shared.models.listing import TaskQuery
from shared.models.task import TaskRecord, TaskStats
from shared.models.task_input import (
    PLACEMENT_FIELDS,
    RECURRENCE_NEEDS_DUE_AT,
    TaskCreate,
    TaskMove,
    TaskReplace,
    TaskUpdate,
)
from shared.repositories import completion as completion_repo
from shared.repositories import idempotency as keys_repo
from shared.repositories import task_order as order_repo
from shared.repositories import tasks as repo
from shared.repositories.positions import Place
from shared.services.recurrence import next_due

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
        raise NotFound("no task has this id: ids are positive 64-bit integers")


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


def _stored_fields(task_in: TaskCreate | TaskReplace) -> dict[str, Any]:
    """The fields a create or PUT writes. A `parent_id` without a `list_id` takes the parent's list
    (the repository reads it in the same statement): a subtask is in its parent's list."""
    values = task_in.model_dump(exclude=set(PLACEMENT_FIELDS))
    if "list_id" not in task_in.model_fields_set and values.get("parent_id") is not None:
        del values["list_id"]
    return values


def _settled(session: Session, *, owner_id: str, task: TaskRecord) -> TaskRecord:
    """The task once its scope's keys are short again: a key past the bound (repeated inserts at
    one spot grow keys by about a character each) rebalances the scope, a second round trip."""
    if len(task.position or "") <= POSITION_KEY_MAX:
        return task
    rebalanced = order_repo.rebalance_scope(session, owner_id=owner_id, task=task)
    return rebalanced if rebalanced is not None else get_task(session, owner_id=owner_id, task_id=task.id)


def create_task(
    session: Session,
    *,
    owner_id: str,
    task_in: TaskCreate,
    idempotency_key: str | None = None,
    body_hash: str | None = None,
) -> Created:
    values = _stored_fields(task_in)
    if "after_id" not in task_in.model_fields_set:
        place = Place.last
    else:
        place = Place.first if task_in.after_id is None else Place.after
    values["recurrence_start"] = values["due_at"] if values.get("recurrence") is not None else None
    if idempotency_key is None:
        task = repo.insert_task(session, owner_id=owner_id, values=values, place=place, after_id=task_in.after_id)
        if task is None:
            raise repo.invalid_reference("after_id")
        return Created(_settled(session, owner_id=owner_id, task=task), replayed=False)
    assert body_hash is not None
    for _ in range(3):
        try:
            task = keys_repo.insert_task_with_key(
                session,
                owner_id=owner_id,
                values=values,
                key=idempotency_key,
                request_hash=body_hash,
                place=place,
                after_id=task_in.after_id,
            )
        except keys_repo.NotPlaced:
            # Nothing inserted and nothing claimed: a replay of an earlier success, or a bad after_id.
            if keys_repo.find_key(session, owner_id=owner_id, key=idempotency_key) is None:
                raise repo.invalid_reference("after_id") from None
            task = None
        if task is not None:
            return Created(_settled(session, owner_id=owner_id, task=task), replayed=False)
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
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            cursor_key, owner_id=owner_id, query=query, sort_source=last.sort_source, task_id=last.task.id
        )
    return Page([row.task for row in rows[:limit]], next_cursor)


def _write(session: Session, *, owner_id: str, task_id: int, values: dict[str, Any], versions: Versions) -> TaskRecord:
    _check_id(task_id)
    try:
        task = repo.update_task(session, owner_id=owner_id, task_id=task_id, values=values, versions=versions)
    except repo.MissingDueDate:
        # The rule sent meets a missing due date, or the due date is removed under a stored rule.
        raise InvalidField("recurrence" if values.get("recurrence") else "due_at", RECURRENCE_NEEDS_DUE_AT) from None
    if task is None:
        _raise_missing_or_stale(session, owner_id=owner_id, task_id=task_id, versions=versions)
    return _settled(session, owner_id=owner_id, task=task)  # a task that changed scope got a new key


def move_task(
    session: Session, *, owner_id: str, task_id: int, move: TaskMove, versions: Versions = None
) -> TaskRecord:
    """Place the task right after `after_id` (None: first) in its scope, or in the one the move names."""
    _check_id(task_id)
    target = move.model_dump(include={"list_id", "parent_id"}, exclude_unset=True)
    task = order_repo.move_task(
        session, owner_id=owner_id, task_id=task_id, after_id=move.after_id, target=target, versions=versions
    )
    if task is None:
        # Only on the failure path: not the caller's live task (404), a stale If-Match (412), or
        # else the neighbour is not another live task of the target scope (422).
        current = repo.task_version(session, owner_id=owner_id, task_id=task_id)
        if current is None:
            raise _not_found(task_id)
        if versions is not None and current not in versions:
            raise PreconditionFailed("the task has changed since the ETag in If-Match was issued")
        raise repo.invalid_reference("after_id")
    return _settled(session, owner_id=owner_id, task=task)


def _raise_missing_or_stale(session: Session, *, owner_id: str, task_id: int, versions: Versions) -> NoReturn:
    # Only on the failure path: tell "not yours / gone" (404) from "changed since you read it" (412).
    if versions is None or repo.task_version(session, owner_id=owner_id, task_id=task_id) is None:
        raise _not_found(task_id)
    raise PreconditionFailed("the task has changed since the ETag in If-Match was issued")


def replace_task(
    session: Session, *, owner_id: str, task_id: int, task_in: TaskReplace, versions: Versions = None
) -> TaskRecord:
    return _write(session, owner_id=owner_id, task_id=task_id, values=_stored_fields(task_in), versions=versions)


def update_task(
    session: Session, *, owner_id: str, task_id: int, task_in: TaskUpdate, versions: Versions = None
) -> TaskRecord:
    values = task_in.model_dump(exclude_unset=True)
    return _write(session, owner_id=owner_id, task_id=task_id, values=values, versions=versions)


# A recurring completion that meets a concurrent edit starts over with the task as that edit left it.
COMPLETE_ATTEMPTS = 5


def complete_task(
    session: Session, *, owner_id: str, task_id: int, completed: bool | None, versions: Versions = None
) -> TaskRecord:
    """`completed=None` toggles; True or False sets. Completing a recurring task moves it to its next
    occurrence instead (or completes it when its rule has ended)."""
    if completed is False:
        return _write(session, owner_id=owner_id, task_id=task_id, values={"completed": False}, versions=versions)
    _check_id(task_id)
    value = repo.TOGGLE if completed is None else True
    for _ in range(COMPLETE_ATTEMPTS):
        outcome = completion_repo.complete_task(
            session, owner_id=owner_id, task_id=task_id, completed=value, versions=versions
        )
        if outcome is None:
            raise _not_found(task_id)
        task = outcome.task
        if outcome.applied:
            return task
        if versions is not None and task.version not in versions:
            raise PreconditionFailed("the task has changed since the ETag in If-Match was issued")
        if task.recurrence is None or task.completed:
            continue  # changed between the statement's read and its write: it applies now
        # Computed from this version of the task, written only if the task still has it.
        occurrence = next_due(task, now=datetime.now(UTC))
        done = completion_repo.complete_occurrence(
            session, owner_id=owner_id, task_id=task_id, version=task.version, next_due=occurrence
        )
        if done is not None:
            return done
    raise EditConflict("the task kept changing while it was being completed; retry")


def delete_task(session: Session, *, owner_id: str, task_id: int, versions: Versions = None) -> None:
    _check_id(task_id)
    if not repo.delete_task(session, owner_id=owner_id, task_id=task_id, versions=versions):
        _raise_missing_or_stale(session, owner_id=owner_id, task_id=task_id, versions=versions)


def task_stats(session: Session, *, owner_id: str) -> TaskStats:
    return repo.task_stats(session, owner_id=owner_id)

"""SQL for idempotent task creation. Scoped by owner like every repository function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, column, delete, func, insert, literal_column, select, true
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from shared.errors import IdempotencyInProgress
from shared.models.idempotency import IdempotencyKey
from shared.models.limits import IDEMPOTENCY_TTL_HOURS
from shared.models.table import tasks
from shared.models.task import TaskRecord
from shared.repositories.positions import SERIALISED, Place
from shared.repositories.tasks import InsertShape, insert_params, insert_shape, run, to_record, write

keys = IdempotencyKey.__table__  # type: ignore[attr-defined]
CLEANUP_BATCH = 20
_LOCK_NOT_AVAILABLE = "55P03"
_UNIQUE_VIOLATION = "23505"


def _pgcode(error: Exception) -> str | None:
    return getattr(getattr(error, "orig", None), "pgcode", None)


class NotPlaced(Exception):
    """The create inserted nothing: its `after_id` names no task of the new task's scope."""


@cache
def _insert_with_key(shape: InsertShape) -> Any:
    created = insert_shape(shape).cte("created")
    claim = (
        insert(keys)
        .from_select(
            ["user_id", "key", "request_hash", "response", "expires_at"],
            select(
                bindparam("owner_id", type_=String),
                bindparam("key", type_=String),
                bindparam("request_hash", type_=String),
                func.to_jsonb(created.table_valued()),
                func.now() + timedelta(hours=IDEMPOTENCY_TTL_HOURS),
            ).select_from(created),
        )
        .cte("claimed")
    )
    expired = (
        select(keys.c.user_id, keys.c.key)
        .where(keys.c.expires_at < func.now())
        .limit(CLEANUP_BATCH)
        .with_for_update(skip_locked=True)
    )
    sweep = delete(keys).where(func.row(keys.c.user_id, keys.c.key).in_(expired)).cte("swept")
    return select(created).add_cte(claim).add_cte(sweep).execution_options(**SERIALISED)


def insert_task_with_key(
    session: Session,
    *,
    owner_id: str,
    values: dict[str, Any],
    key: str,
    request_hash: str,
    place: Place = Place.last,
    after_id: int | None = None,
) -> TaskRecord | None:
    """Create the task and claim the key in one atomic statement, storing the response snapshot.

    None when the key is already claimed: the whole statement fails with a unique violation, so
    no task is created. IdempotencyInProgress when another request holds the key uncommitted
    past the lock timeout. A few expired keys (anyone's) are swept in the same statement, so
    expiry needs no scheduler of its own. NotPlaced when the placement inserted nothing.
    """
    shape, params = insert_params(owner_id, values, place, after_id)
    params.update(key=key, request_hash=request_hash)
    try:
        row = write(session, _insert_with_key(shape), params).one_or_none()
    except IntegrityError as error:
        if _pgcode(error) != _UNIQUE_VIOLATION:
            raise
        return None
    except OperationalError as error:
        if _pgcode(error) == _LOCK_NOT_AVAILABLE:
            raise IdempotencyInProgress("a request with this Idempotency-Key is still being processed") from None
        raise
    if row is None:
        raise NotPlaced
    return to_record(row)


@dataclass(frozen=True)
class ClaimedKey:
    request_hash: str
    task: TaskRecord  # the task as it was created, for the replay
    live: bool


# The snapshot (to_jsonb of the created row) read back as a row of the tasks table, so it becomes
# a record through the table's own column types, like any task read.
_snapshot = (
    func.jsonb_populate_record(literal_column(f"NULL::{tasks.name}"), keys.c.response)
    .table_valued(*(column(c.name, c.type) for c in tasks.c), name="snapshot")
    .lateral()
)
_FIND = (
    select(keys.c.request_hash, keys.c.expires_at > func.now(), *_snapshot.c)
    .select_from(keys.join(_snapshot, true()))
    .where(keys.c.user_id == bindparam("owner_id"), keys.c.key == bindparam("key"))
)
_DELETE_EXPIRED = delete(keys).where(
    keys.c.user_id == bindparam("owner_id"), keys.c.key == bindparam("key"), keys.c.expires_at <= func.now()
)


def find_key(session: Session, *, owner_id: str, key: str) -> ClaimedKey | None:
    row = run(session, _FIND, {"owner_id": owner_id, "key": key}).one_or_none()
    return None if row is None else ClaimedKey(row[0], to_record(row[2:]), bool(row[1]))


def delete_expired_key(session: Session, *, owner_id: str, key: str) -> None:
    run(session, _DELETE_EXPIRED, {"owner_id": owner_id, "key": key})

"""SQL for idempotent task creation. Scoped by owner like every repository function."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, select
from sqlmodel import Session

from shared.models.idempotency import IDEMPOTENCY_TTL_HOURS, IdempotencyKey
from shared.models.task import Task
from shared.repositories.tasks import _to_task, insert_values, tasks

keys = IdempotencyKey.__table__  # type: ignore[attr-defined]
CLEANUP_BATCH = 20


def insert_task_with_key(
    session: Session, *, owner_id: str, values: dict[str, Any], key: str, request_hash: str
) -> Task:
    """Create the task and claim the key in one atomic statement, storing the response snapshot.

    A key already claimed makes the whole statement fail with a unique violation, so no task
    is created; a few expired keys (anyone's) are swept in the same statement, so expiry
    needs no scheduler of its own.
    """
    created = insert(tasks).values(**insert_values(owner_id, values)).returning(*tasks.c).cte("created")
    claim = (
        insert(keys)
        .from_select(
            ["user_id", "key", "request_hash", "response", "expires_at"],
            select(
                literal(owner_id),
                literal(key),
                literal(request_hash),
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
    stmt = select(created).add_cte(claim).add_cte(sweep)
    return _to_task(session.execute(stmt).one())


def find_key(session: Session, *, owner_id: str, key: str) -> tuple[str, dict[str, Any], bool] | None:
    """(request hash, response snapshot, still live) of a claimed key."""
    stmt = select(keys.c.request_hash, keys.c.response, keys.c.expires_at > func.now()).where(
        keys.c.user_id == owner_id, keys.c.key == key
    )
    row = session.execute(stmt).one_or_none()
    return None if row is None else (row[0], row[1], bool(row[2]))


def delete_expired_key(session: Session, *, owner_id: str, key: str) -> None:
    session.execute(delete(keys).where(keys.c.user_id == owner_id, keys.c.key == key, keys.c.expires_at <= func.now()))

"""SQL for batches: every operation's statement, its values bound client-side, run in order by
one call of tasks_api_batch (migration 0003): one round trip whatever the batch's size, and all or
nothing, since it is one statement.

A statement names the k-th task the batch creates as `$1[k]` (the function allocates their ids
first), so an operation may refer to a task created earlier in the same batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from psycopg2.extensions import AsIs
from sqlalchemy import Boolean, Integer, String, Text, bindparam, column, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

from shared.errors import IdempotencyInProgress
from shared.models.limits import IDEMPOTENCY_TTL_HOURS
from shared.models.table import tasks
from shared.models.task import TaskRecord
from shared.repositories.idempotency import CLEANUP_BATCH
from shared.repositories.tasks import VERSION, run, to_record

_DIALECT = PGDialect_psycopg2()  # type: ignore[no-untyped-call]
_OPERATION = re.compile(r"tasks_api\.operation=(\d+)")
MISSING, STALE = "TA404", "TA412"  # an operation that wrote nothing: no such live task / If-Match failed
_UNIQUE_VIOLATION = "23505"
_LOCK_NOT_AVAILABLE = "55P03"


def created(k: int) -> AsIs:
    """The id of the batch's k-th create (from 1), as its statements write it."""
    return AsIs(f"($1[{k}])")


@dataclass(frozen=True)
class Statement:
    sql: str  # values inlined
    check: str  # run when `sql` writes nothing: the task's live version (NULL: missing)


@cache
def _compiled(statement: Any) -> SQLCompiler:
    compiled: SQLCompiler = statement.compile(dialect=_DIALECT)
    return compiled


def inline(session: Session, statement: Any, params: dict[str, Any]) -> str:
    """The statement's SQL with its parameters bound as literals, exactly as psycopg2 would send
    them (the columns' bind processors applied first); no round trip."""
    compiled = _compiled(statement)
    expanded = compiled._process_parameters_for_postcompile(compiled.construct_params(params))
    values = dict(expanded.parameters)
    processors: dict[str, Any] = {**compiled._bind_processors, **expanded.processors}
    for name, process in processors.items():
        value = values.get(name)
        if value is not None and not isinstance(value, AsIs):
            values[name] = process(value)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        sql: bytes = cursor.mogrify(expanded.statement, values)
    finally:
        cursor.close()
    return sql.decode()


def statement(session: Session, sql: Any, params: dict[str, Any], *, owner_id: str, task_id: Any) -> Statement:
    check = inline(session, VERSION, {"task_id": task_id, "owner_id": owner_id})
    return Statement(inline(session, sql, params), check)


_TASK_COLUMNS = [column(c.name, c.type) for c in tasks.c]
# Named, not `p.*`: the table's physical column order is the migrations' order, not the record's.
_P = ", ".join(f"p.{c.name}" for c in tasks.c)
_RESULT = "tasks_api_batch(:statements, :checks, :creates) WITH ORDINALITY AS b(r, n)"
_POPULATED = "LATERAL jsonb_populate_record(NULL::tasks, results.r::jsonb) AS p"
# Built from constants only (the table's column names); every value is a bound parameter.
_RUN = text(
    f"WITH results AS (SELECT b.r, b.n FROM {_RESULT}) SELECT {_P} FROM results, {_POPULATED} ORDER BY results.n"  # noqa: S608
).columns(*_TASK_COLUMNS)
_RUN_WITH_KEY = text(
    f"""WITH results AS (SELECT b.r, b.n FROM {_RESULT}),
claimed AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, response, expires_at)
    SELECT :owner_id, :key, :request_hash, jsonb_build_object('batch', jsonb_agg(r::jsonb ORDER BY n)),
           now() + :ttl FROM results
),
swept AS (
    DELETE FROM idempotency_keys WHERE (user_id, key) IN (
        SELECT user_id, key FROM idempotency_keys WHERE expires_at < now() LIMIT {CLEANUP_BATCH}
        FOR UPDATE SKIP LOCKED
    )
)
SELECT {_P} FROM results, {_POPULATED} ORDER BY results.n"""  # noqa: S608
).columns(*_TASK_COLUMNS)
_ARRAYS = (bindparam("statements", type_=ARRAY(Text)), bindparam("checks", type_=ARRAY(Text)))
_RUN = _RUN.bindparams(*_ARRAYS, bindparam("creates", type_=Integer))
_RUN_WITH_KEY = _RUN_WITH_KEY.bindparams(*_ARRAYS, bindparam("creates", type_=Integer))


class OperationError(Exception):
    """The database refused operation `index` (SQLSTATE `code`, `constraint` when one is named)."""

    def __init__(self, index: int, code: str, constraint: str | None, cause: DBAPIError) -> None:
        super().__init__(code)
        self.index, self.code, self.constraint, self.cause = index, code, constraint, cause


def _operation_error(error: DBAPIError) -> OperationError | None:
    diag = getattr(error.orig, "diag", None)
    found = _OPERATION.fullmatch(getattr(diag, "message_detail", None) or "")
    code = getattr(error.orig, "pgcode", None)
    if found is None or code is None:
        return None
    return OperationError(int(found.group(1)), code, getattr(diag, "constraint_name", None), error)


def run_batch(
    session: Session,
    *,
    owner_id: str,
    statements: list[Statement],
    creates: int,
    key: str | None = None,
    request_hash: str | None = None,
) -> list[TaskRecord] | None:
    """Each operation's row (a delete's: its id only), in order. OperationError for the operation
    that failed (nothing applied). None when `key` is already claimed (nothing applied either)."""
    params: dict[str, Any] = {
        "statements": [s.sql for s in statements],
        "checks": [s.check for s in statements],
        "creates": creates,
    }
    if key is not None:
        params.update(owner_id=owner_id, key=key, request_hash=request_hash, ttl=timedelta(hours=IDEMPOTENCY_TTL_HOURS))
    try:
        rows = run(session, _RUN if key is None else _RUN_WITH_KEY, params).all()
    except DBAPIError as error:
        failed = _operation_error(error)
        if failed is not None:
            raise failed from None
        code = getattr(error.orig, "pgcode", None)
        if key is not None and code == _UNIQUE_VIOLATION:
            return None
        if key is not None and code == _LOCK_NOT_AVAILABLE:
            raise IdempotencyInProgress("a request with this Idempotency-Key is still being processed") from None
        raise
    return [to_record(row) for row in rows]


@dataclass(frozen=True)
class ClaimedBatch:
    request_hash: str
    live: bool
    rows: list[TaskRecord]  # the rows of the batch's response, to replay it


_FIND = (
    text(
        f"""SELECT k.request_hash, k.expires_at > now(), {_P}
FROM idempotency_keys AS k
LEFT JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(k.response -> 'batch') = 'array' THEN k.response -> 'batch' ELSE '[]'::jsonb END
) WITH ORDINALITY AS e(j, n) ON true
LEFT JOIN LATERAL jsonb_populate_record(NULL::tasks, e.j) AS p ON true
WHERE k.user_id = :owner_id AND k.key = :key
ORDER BY e.n"""  # noqa: S608
    )
    .columns(column("request_hash", String), column("live", Boolean), *_TASK_COLUMNS)
    .bindparams(bindparam("owner_id", type_=String), bindparam("key", type_=String))
)


def find_batch_key(session: Session, *, owner_id: str, key: str) -> ClaimedBatch | None:
    """The stored batch response for a key (a key stored by a single create has no rows)."""
    result = run(session, _FIND, {"owner_id": owner_id, "key": key}).all()
    if not result:
        return None
    rows = [to_record(row[2:]) for row in result if row[2] is not None]
    return ClaimedBatch(result[0][0], bool(result[0][1]), rows)

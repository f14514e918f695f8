"""Batch use case: 1-100 task operations, validated like the single routes, applied all or nothing.

Every operation is checked and turned into its single route's statement in Python first; then
the whole batch runs as one statement (shared.repositories.batch). A failing operation fails the
batch with its own status and problem, plus its index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from shared.errors import (
    DomainError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    OperationFailed,
    PreconditionFailed,
)
from shared.models.batch import REF_FIELDS, REF_PREFIX
from shared.models.etag import accepted_versions
from shared.models.task import TaskRecord
from shared.models.task_input import PLACEMENT_FIELDS, TaskCompletion, TaskCreate, TaskReplace, TaskUpdate
from shared.repositories import batch as repo
from shared.repositories import idempotency as keys_repo
from shared.repositories import tasks as tasks_repo
from shared.repositories.positions import Place
from shared.services.tasks import MAX_TASK_ID, request_hash

STATUS = {"create": 201, "update": 200, "replace": 200, "complete": 200, "delete": 204, "move": 200}
BODY_MODELS: dict[str, type[BaseModel]] = {
    "create": TaskCreate,
    "update": TaskUpdate,
    "replace": TaskReplace,
    "complete": TaskCompletion,
}
# Which field of the database error names the input at fault (the trigger's and the keys' names).
CONSTRAINT_FIELDS = {
    "tasks_list_live": "list_id",
    "tasks_list_fkey": "list_id",
    "tasks_parent_top_level": "parent_id",
    "tasks_parent_same_list": "parent_id",
    "tasks_one_level": "parent_id",
    "tasks_parent_fkey": "parent_id",
}


@dataclass(frozen=True)
class Operation:
    """One operation as the route hands it over: `if_match` already split into its entity tags."""

    op: str
    id: int | str | None = None
    ref: str | None = None
    if_match: list[str] | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Result:
    status: int
    task: TaskRecord | None  # None for a delete


@dataclass(frozen=True)
class Outcome:
    results: list[Result]
    replayed: bool


def batch_hash(body: Any) -> str:
    """Keys are shared with single creates: a batch's hash never equals a create's."""
    return request_hash({"batch": body})


def _invalid(loc: list[str | int], msg: str, type_: str = "value_error") -> InvalidInput:
    return InvalidInput("the request is not valid", errors=[{"loc": loc, "msg": msg, "type": type_}])


@dataclass
class _Plan:
    owner_id: str
    refs: dict[str, int] = field(default_factory=dict)  # ref -> k: the batch's k-th create
    creates: int = 0

    def task_id(self, index: int, value: int | str, loc: list[str | int]) -> Any:
        if isinstance(value, str):
            k = self.refs.get(value.removeprefix(REF_PREFIX))
            if k is None:
                raise _invalid(loc, f"{value} names no task created earlier in this batch")
            return repo.created(k)
        if not 0 < value <= MAX_TASK_ID:
            raise NotFound(f"task {value} does not exist")
        return value

    def body(self, index: int, operation: Operation) -> dict[str, Any]:
        model = BODY_MODELS.get(operation.op)
        loc: list[str | int] = ["body", "operations", index, "body"]
        if model is None:
            if operation.body is not None:
                raise _invalid(loc, f"{operation.op} takes no body", "extra_forbidden")
            return {}
        raw = dict(operation.body or {})
        refs = {}
        for name in REF_FIELDS:
            value = raw.get(name)
            if isinstance(value, str) and value.startswith(REF_PREFIX):
                refs[name] = self.task_id(index, value, [*loc, name])
                raw[name] = 1  # any valid id: the model checks the rest; the ref is put back below
        try:
            validated = model.model_validate(raw)
        except ValidationError as error:
            issues = [{"loc": [*loc, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
            raise InvalidInput("the request is not valid", errors=issues) from None
        values = validated.model_dump(exclude_unset=operation.op in ("update", "complete"))
        return values | refs

    def statement(self, session: Session, index: int, operation: Operation) -> repo.Statement:
        values = self.body(index, operation)
        if operation.op == "create":
            for name in ("id", "if_match"):
                if getattr(operation, name) is not None:
                    raise _invalid(["body", "operations", index, name], f"a create takes no {name}")
            self.creates += 1
            if operation.ref is not None:
                self.refs[operation.ref] = self.creates
            task_id: Any = repo.created(self.creates)
            sent = set(operation.body or {})
            after_id = values.get("after_id")
            place = Place.last if "after_id" not in sent else Place.first if after_id is None else Place.after
            values = _stored(values, sent)
            values["recurrence_start"] = values["due_at"] if values.get("recurrence") is not None else None
            shape, params = tasks_repo.insert_params(self.owner_id, values | {"id": task_id}, place, after_id)
            sql = tasks_repo.insert_shape(shape)
        else:
            if operation.id is None:
                raise _invalid(["body", "operations", index, "id"], "this operation needs the task's id")
            task_id = self.task_id(index, operation.id, ["body", "operations", index, "id"])
            # A task created in this batch has no ETag the client could know: only `*` matches it.
            versions = accepted_versions(operation.if_match, task_id if isinstance(task_id, int) else 0)
            sql, params = self._write(operation, task_id, values, versions)
        return repo.statement(session, sql, params, owner_id=self.owner_id, task_id=task_id)

    def _write(
        self, operation: Operation, task_id: Any, values: dict[str, Any], versions: tuple[int, ...] | None
    ) -> tuple[Any, dict[str, Any]]:
        params: dict[str, Any] = {"task_id": task_id, "owner_id": self.owner_id}
        if operation.op == "delete":
            if versions is not None:
                params["versions"] = list(versions)
            return tasks_repo.delete_statement(versions is not None), params
        if operation.op == "move":
            raise _invalid(["body", "operations", "op"], "move is not available in batches yet")
        if operation.op == "complete":
            completed = values.get("completed")
            values = {"completed": tasks_repo.TOGGLE if completed is None else completed}
        elif operation.op == "replace":
            values = _stored(values, set(operation.body or {}))
        return tasks_repo.update_statement(owner_id=self.owner_id, task_id=task_id, values=values, versions=versions)


def _stored(values: dict[str, Any], sent: set[str]) -> dict[str, Any]:
    """What a create or replace writes, as the single routes do: placement is not a field, and a
    `parent_id` without a `list_id` takes the parent's list."""
    stored = {k: v for k, v in values.items() if k not in PLACEMENT_FIELDS}
    if "list_id" not in sent and stored.get("parent_id") is not None:
        del stored["list_id"]
    return stored


def _failed(error: repo.OperationError) -> DomainError:
    if error.code == repo.MISSING:
        return NotFound("the task does not exist")
    if error.code == repo.STALE:
        return PreconditionFailed("the task has changed since the ETag in if_match was issued")
    name = CONSTRAINT_FIELDS.get(error.constraint or "")
    if name is not None:
        loc: list[str | int] = ["body", "operations", error.index, "body", name]
        return _invalid(loc, f"{name} does not name one of the caller's tasks or lists that allows this")
    raise error.cause


def run_batch(
    session: Session,
    *,
    owner_id: str,
    operations: list[Operation],
    idempotency_key: str | None = None,
    body_hash: str | None = None,
) -> Outcome:
    plan = _Plan(owner_id)
    statements = []
    for index, operation in enumerate(operations):
        try:
            statements.append(plan.statement(session, index, operation))
        except DomainError as error:
            raise OperationFailed(error, index) from None
    for _ in range(3):
        try:
            rows = repo.run_batch(
                session,
                owner_id=owner_id,
                statements=statements,
                creates=plan.creates,
                key=idempotency_key,
                request_hash=body_hash,
            )
        except repo.OperationError as error:
            raise OperationFailed(_failed(error), error.index) from None
        if rows is not None:
            return Outcome(_results(operations, rows), replayed=False)
        assert idempotency_key is not None
        found = repo.find_batch_key(session, owner_id=owner_id, key=idempotency_key)
        if found is None:
            continue  # swept meanwhile: claim it again
        if not found.live:
            keys_repo.delete_expired_key(session, owner_id=owner_id, key=idempotency_key)
            continue
        if found.request_hash != body_hash or len(found.rows) != len(operations):
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body")
        return Outcome(_results(operations, found.rows), replayed=True)
    raise IdempotencyInProgress("a request with this Idempotency-Key is still being processed")


def _results(operations: list[Operation], rows: list[TaskRecord]) -> list[Result]:
    return [
        Result(STATUS[operation.op], None if operation.op == "delete" else row)
        for operation, row in zip(operations, rows, strict=True)
    ]

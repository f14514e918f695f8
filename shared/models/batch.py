"""What a batch request carries: 1-100 operations on tasks, applied all or nothing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, create_model, model_validator

from shared.models.task import TaskPublic

BATCH_MAX = 100
REF_MAX = 64
_REF = rf"[A-Za-z0-9_-]{{1,{REF_MAX}}}"
REF_PREFIX = "$"
# The task-id fields of an operation's body where a `"$<ref>"` may stand (those the body models have).
REF_FIELDS = ("parent_id", "after_id")

OpName = Literal["create", "update", "replace", "complete", "delete", "move"]
RefName = Annotated[str, StringConstraints(pattern=rf"^{_REF}$")]
TaskRef = Annotated[str, StringConstraints(pattern=rf"^\$({_REF})$")]


class BatchOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: OpName = Field(description="What the operation does, with the meaning of the single route.")
    id: StrictInt | TaskRef | None = Field(
        None, description='The task (not for `create`): its id, or `"$<ref>"` of a task created earlier in the batch.'
    )
    ref: RefName | None = Field(None, description='A `create`\'s name for its task, for later `"$<ref>"` use.')
    if_match: str | None = Field(
        None, max_length=1024, description="Written exactly like the If-Match header: a stale tag fails with 412."
    )
    body: dict[str, Any] | None = Field(None, description="The single route's body (validated like it).")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operations: list[BatchOperation] = Field(min_length=1, max_length=BATCH_MAX)

    @model_validator(mode="after")
    def _refs_name_creates_once(self) -> BatchRequest:
        seen: set[str] = set()
        for index, operation in enumerate(self.operations):
            if operation.ref is None:
                continue
            if operation.op != "create":
                raise ValueError(f"operation {index}: only a create names its task with `ref`")
            if operation.ref in seen:
                raise ValueError(f"operation {index}: the ref {operation.ref!r} is used twice")
            seen.add(operation.ref)
        return self


_result_fields: dict[str, Any] = {
    "status": (int, Field(description="The single route's status: 201 create, 204 delete, 200 otherwise.")),
    "etag": (str | None, Field(None, description="The task's new ETag, as the header writes it.")),
    "task": (TaskPublic | None, Field(None, description="The task as the single route returns it.")),
}
BatchResult = create_model("BatchResult", __base__=BaseModel, **_result_fields)
BatchResponse = create_model("BatchResponse", __base__=BaseModel, results=(list[BatchResult], ...))

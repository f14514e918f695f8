"""What a batch request carries: 1-100 operations on tasks, applied all or nothing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

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


def _component(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_TASK_ID = {
    "anyOf": [{"type": "integer"}, {"type": "string", "pattern": rf"^\$({_REF})$"}],
    "description": 'The task: its id, or `"$<ref>"` of a task created earlier in the batch.',
}
_IF_MATCH = {"type": "string", "maxLength": 1024, "description": "Written exactly like the If-Match header."}
# op -> (its body's schema, whether the body is required); `create` takes no id, the others need one.
_VARIANTS: dict[str, tuple[dict[str, str] | None, bool]] = {
    "create": (_component("TaskCreate"), True),
    "update": (_component("TaskUpdate"), False),
    "replace": (_component("TaskReplace"), True),
    "complete": (_component("TaskCompletion"), False),
    "delete": (None, False),
}


def _variant(op: str, body: dict[str, str] | None, body_required: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"op": {"const": op}}
    required = ["op"]
    if op == "create":
        properties["ref"] = {"type": "string", "pattern": f"^{_REF}$", "description": "A name for later `$<ref>`."}
    else:
        properties.update(id=_TASK_ID, if_match=_IF_MATCH)
        required.append("id")
    if body is not None:
        properties["body"] = body
        if body_required:
            required.append("body")
    return {
        "type": "object",
        "title": f"{op.title()}Operation",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _document_variants(schema: dict[str, Any]) -> None:
    """The document shows each operation's own shape (its body is that single route's body); the
    model itself parses leniently, so that a bad operation fails with its index (see the service)."""
    schema.clear()
    schema.update(
        title="BatchOperation",
        oneOf=[_variant(op, *variant) for op, variant in _VARIANTS.items()],
        discriminator={"propertyName": "op"},
    )


class BatchOperation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_variants)

    op: OpName = Field(description="What the operation does, with the meaning of the single route.")
    id: StrictInt | TaskRef | None = Field(None, description="The task (not for `create`).")
    ref: RefName | None = Field(None, description="A `create`'s name for its task, for later `$<ref>` use.")
    if_match: Annotated[str, StringConstraints(max_length=1024)] | None = Field(None, description="Like If-Match.")
    body: dict[str, Any] | None = Field(None, description="The single route's body (validated like it).")

    @field_validator("id", "ref", "if_match", "body", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # An optional member may be left out, not sent as null (what the document says).
        if value is None:
            raise ValueError("must not be null; leave it out instead")
        return value


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

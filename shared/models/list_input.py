"""What clients send about lists: create, rename, move."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.models.lists import LIST
from shared.models.task_input import RowId
from shared.models.text import ListName


class _ListInput(BaseModel):
    """Unknown fields are rejected; the read-only fields a client read may be sent back and are ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in LIST_READ_ONLY_FIELDS}
        return data


class ListCreate(_ListInput):
    name: ListName


class ListUpdate(_ListInput):
    """PATCH: only the fields sent change (a list's only editable field is its name)."""

    name: ListName = Field(default=None)  # type: ignore[assignment]  # absent: unchanged; null is refused


class ListMove(_ListInput):
    after_id: RowId | None = Field(
        description="Place the list right after this other list of the caller's (null: first)."
    )


LIST_READ_ONLY_FIELDS = frozenset(LIST.public_fields) - set(ListCreate.model_fields)

"""What clients send about lists: create, rename, move."""

from __future__ import annotations

from pydantic import Field

from shared.models.client_input import ClientInput
from shared.models.lists import LIST
from shared.models.task_input import RowId
from shared.models.text import ListName


class _ListInput(ClientInput):
    """Unknown fields are rejected; the read-only fields a client read may be sent back and are ignored."""


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
_ListInput.read_only = LIST_READ_ONLY_FIELDS

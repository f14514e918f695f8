"""The base of every input schema: unknown fields are refused; the read-only fields of the entity
(what its responses show but clients cannot set) may be sent back as read, and are ignored."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class ClientInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Set once per entity, after its create schema says which fields clients may set.
    read_only: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in cls.read_only}
        return data

"""What a sync page carries: changed tasks and lists, tombstones, the next token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, create_model

from shared.models.lists import ListPublic
from shared.models.task import TaskPublic
from shared.models.times import Timestamp

SYNC_LIMIT_DEFAULT = 500
SYNC_LIMIT_MAX = 1000
SYNC_TOKEN_MAX = 512


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A deleted task or list, as sync reports it."""

    id: int
    deleted_at: Timestamp


TOMBSTONES: TypeAdapter[list[Tombstone]] = TypeAdapter(list[Tombstone])


class DeletedEntity(BaseModel):
    id: int
    deleted_at: Timestamp


_fields: dict[str, Any] = {
    "tasks": (list[TaskPublic], Field(description="Live tasks created or changed after the token, latest state.")),
    "lists": (list[ListPublic], Field(description="Live lists created or changed after the token, latest state.")),
    "deleted_tasks": (list[DeletedEntity], Field(description="Tasks deleted after the token (never in a full sync).")),
    "deleted_lists": (list[DeletedEntity], Field(description="Lists deleted after the token (never in a full sync).")),
    "sync_token": (str, Field(description="Opaque: send it as `since` next time (always keep the last one).")),
    "more": (bool, Field(description="More changes follow: call again at once with the new `sync_token`.")),
}
SyncPage = create_model("SyncPage", __base__=BaseModel, **_fields)

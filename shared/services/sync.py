"""Sync use cases: full and incremental pages, and the signed tokens that name a position.

A token carries two change positions of the user's counter:
- `position`: everything changed up to it has been sent (the next page starts after it);
- `floor`: the client's copy is complete as of this position. It is above `position` only while a
  full sync is still paging: that copy holds no tombstone older than the full sync's start, so a
  tombstone pruned below `floor` was never needed. A prune above `floor`, or a `floor` above the
  counter (the database was reset or restored), means a change may be lost: 410.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlmodel import Session

from shared.errors import BadSyncToken, SyncResetRequired
from shared.models.lists import LIST, ListRecord
from shared.models.sync import TOMBSTONES, Tombstone
from shared.models.task import TASK, TaskRecord
from shared.repositories import sync as repo

_NO_FLOOR = 2**63 - 1  # a full sync starts from nothing: no prune can lose it a change


@dataclass(frozen=True)
class SyncPage:
    tasks: list[TaskRecord]
    lists: list[ListRecord]
    deleted_tasks: list[Tombstone]
    deleted_lists: list[Tombstone]
    sync_token: str
    more: bool

    def json(self) -> bytes:
        return b"".join(
            [
                b'{"tasks":',
                TASK.json_many(self.tasks),
                b',"lists":',
                LIST.json_many(self.lists),
                b',"deleted_tasks":',
                TOMBSTONES.dump_json(self.deleted_tasks),
                b',"deleted_lists":',
                TOMBSTONES.dump_json(self.deleted_lists),
                b',"sync_token":',
                json.dumps(self.sync_token).encode(),
                b',"more":',
                b"true" if self.more else b"false",
                b"}",
            ]
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signature(key: bytes, owner_id: str, payload: str) -> str:
    # The owner is part of what is signed: another user's token fails like a forged one.
    material = json.dumps(["sync", owner_id, payload], separators=(",", ":")).encode()
    return _b64(hmac.new(key, material, hashlib.sha256).digest()[:16])


def encode_token(key: bytes, *, owner_id: str, position: int, floor: int) -> str:
    payload = _b64(json.dumps([position, floor], separators=(",", ":")).encode())
    return f"{payload}.{_signature(key, owner_id, payload)}"


def decode_token(key: bytes, token: str, *, owner_id: str) -> tuple[int, int]:
    """(position, floor); BadSyncToken for anything forged, truncated or another user's."""
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(key, owner_id, payload).encode()):
        raise BadSyncToken("the sync token is not valid")
    try:
        position, floor = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise BadSyncToken("the sync token is not valid") from None
    if not (type(position) is int and type(floor) is int and 0 <= position <= floor):
        raise BadSyncToken("the sync token is not valid")
    return position, floor


def sync(session: Session, *, owner_id: str, since: str | None, limit: int, key: bytes) -> SyncPage:
    """One page: without `since`, the live tasks and lists; with it, what changed after it."""
    full = since is None
    position, floor = (0, _NO_FLOOR) if since is None else decode_token(key, since, owner_id=owner_id)
    found = repo.changes(session, owner_id=owner_id, since=position, floor=floor, limit=limit + 1, full=full)
    if not full and (found.pruned_seq > floor or floor > found.seq):
        raise SyncResetRequired("changes since this sync token are no longer kept: sync again without `since`")
    rows = found.rows[:limit]
    more = len(found.rows) > limit
    position = rows[-1][0] if more else found.seq
    floor = found.seq if full else max(floor, position)
    page = SyncPage([], [], [], [], encode_token(key, owner_id=owner_id, position=position, floor=floor), more)
    for _, record in rows:
        if isinstance(record, TaskRecord):
            if record.deleted_at is None:
                page.tasks.append(record)
            else:
                page.deleted_tasks.append(Tombstone(record.id, record.deleted_at))
        elif record.deleted_at is None:
            page.lists.append(record)
        else:
            page.deleted_lists.append(Tombstone(record.id, record.deleted_at))
    return page

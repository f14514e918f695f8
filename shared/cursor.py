"""Opaque, signed keyset cursors, bound to the user, the filters and the sort."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from shared.errors import BadCursor
from shared.models.listing import After, SortField, TaskQuery

_DATETIME_FIELDS = (SortField.created_at, SortField.updated_at, SortField.due_at)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _binding(key: bytes, owner_id: str, query: TaskQuery) -> str:
    material = json.dumps([owner_id, query.fingerprint()], separators=(",", ":")).encode()
    return _b64(hmac.new(key, b"binding:" + material, hashlib.sha256).digest()[:12])


def encode_cursor(key: bytes, *, owner_id: str, query: TaskQuery, sort_value: Any, task_id: int) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    payload = _b64(json.dumps([sort_value, task_id, _binding(key, owner_id, query)], separators=(",", ":")).encode())
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])
    return f"{payload}.{signature}"


def decode_cursor(key: bytes, cursor: str, *, owner_id: str, query: TaskQuery) -> After:
    """Where the page after the cursor starts; BadCursor for anything forged or foreign."""
    payload, _, signature = cursor.partition(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadCursor("the cursor is not valid")
    try:
        sort_value, task_id, binding = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor("the cursor is not valid") from None
    if not hmac.compare_digest(str(binding), _binding(key, owner_id, query)):
        raise BadCursor("the cursor belongs to another user, filter or sort")
    if not isinstance(task_id, int):
        raise BadCursor("the cursor is not valid")
    try:
        if query.sort.field in _DATETIME_FIELDS and sort_value is not None:
            sort_value = datetime.fromisoformat(sort_value)
    except (TypeError, ValueError):
        raise BadCursor("the cursor is not valid") from None
    return After(sort_value, task_id)

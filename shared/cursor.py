"""Opaque, signed keyset cursors, bound to the user, the filters and the sort.

A cursor is one URL-safe base64 string of bytes:

    version (1) | task id (8, big-endian) | binding (12) | has value (1) | value (UTF-8) | signature (16)

The value is the text of the last row's sort source as the database wrote it (see
shared.repositories.tasks.SortKey), never recomputed here. Its size is bounded by construction:
the largest source is a title of TITLE_MAX characters of at most 4 UTF-8 bytes each, so the
longest cursor the service can issue is `cursor_length(SORT_SOURCE_MAX_BYTES)` characters, which
is the CURSOR_MAX the list route accepts (a test issues one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct

from shared.errors import BadCursor
from shared.models.limits import CURSOR_MAX, CURSOR_OVERHEAD_BYTES, cursor_length
from shared.models.listing import After, TaskQuery
from shared.parsing import BIGINT_MAX

_VERSION = 1
_HEAD = struct.Struct(">Bq")
_BINDING_BYTES = 12
_SIGNATURE_BYTES = 16
assert _HEAD.size + _BINDING_BYTES + 1 + _SIGNATURE_BYTES == CURSOR_OVERHEAD_BYTES


def _binding(key: bytes, owner_id: str, query: TaskQuery) -> bytes:
    material = json.dumps([owner_id, query.fingerprint()], separators=(",", ":")).encode()
    return hmac.new(key, b"binding:" + material, hashlib.sha256).digest()[:_BINDING_BYTES]


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"cursor:" + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(key: bytes, *, owner_id: str, query: TaskQuery, sort_source: str | None, task_id: int) -> str:
    value = b"" if sort_source is None else sort_source.encode()
    payload = _HEAD.pack(_VERSION, task_id) + _binding(key, owner_id, query) + bytes([sort_source is not None]) + value
    cursor = base64.urlsafe_b64encode(payload + _signature(key, payload)).rstrip(b"=").decode()
    assert len(cursor) <= cursor_length(len(value))
    return cursor


def decode_cursor(key: bytes, cursor: str, *, owner_id: str, query: TaskQuery) -> After:
    """Where the page after the cursor starts; BadCursor for anything forged, foreign or garbled."""
    invalid = BadCursor("the cursor is not valid")
    if len(cursor) > CURSOR_MAX or not cursor.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        raise invalid from None
    payload, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if len(raw) < CURSOR_OVERHEAD_BYTES or not hmac.compare_digest(signature, _signature(key, payload)):
        raise invalid
    version, task_id = _HEAD.unpack_from(payload)
    binding = payload[_HEAD.size : _HEAD.size + _BINDING_BYTES]
    has_value, value = payload[_HEAD.size + _BINDING_BYTES], payload[_HEAD.size + _BINDING_BYTES + 1 :]
    if version != _VERSION or not 0 < task_id <= BIGINT_MAX or has_value not in (0, 1):
        raise invalid
    if not hmac.compare_digest(binding, _binding(key, owner_id, query)):
        raise BadCursor("the cursor belongs to another user, filter or sort")
    try:
        sort_source = value.decode() if has_value else None
    except UnicodeDecodeError:
        raise invalid from None
    return After(sort_source, task_id)

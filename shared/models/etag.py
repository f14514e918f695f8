"""The ETag format: a row's id and write counter, written and parsed only here (tasks and lists)."""

from __future__ import annotations

from typing import Protocol

from shared.parsing import parse_canonical_int

ANY_ETAG = "*"


class Versioned(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...


def etag_of(entity: Versioned) -> str:
    """Strong ETag: the row's write counter, which moves on every successful write."""
    return f'"{entity.id}.{entity.version}"'


def version_in_etag(etag: str, entity_id: int) -> int | None:
    """The version an ETag of `etag_of` names for this entity; None for any other tag.

    Octet for octet: only the exact spelling `etag_of` writes matches (`"7.01"` is not `"7.1"`,
    `"7.²"` and `"7.٣"` are nothing), so matching the version is comparing the tags.
    """
    prefix = f'"{entity_id}.'
    if len(etag) <= len(prefix) or not etag.startswith(prefix) or not etag.endswith('"'):
        return None
    return parse_canonical_int(etag[len(prefix) : -1])


def accepted_versions(tags: list[str] | None, task_id: int) -> tuple[int, ...] | None:
    """The task versions an If-Match (its entity tags, weak ones left out) accepts; None when any
    will do (no header, or `*`)."""
    if tags is None or ANY_ETAG in tags:
        return None
    return tuple(v for v in (version_in_etag(tag, task_id) for tag in tags) if v is not None)

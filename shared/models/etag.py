"""The ETag format: a row's id and write counter, written and parsed only here (tasks and lists)."""

from __future__ import annotations

from typing import Protocol

ANY_ETAG = "*"


class Versioned(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...


def etag_of(row: Versioned) -> str:
    """Strong ETag: the row's write counter, which moves on every successful write."""
    return f'"{row.id}.{row.version}"'


def version_in_etag(etag: str, row_id: int) -> int | None:
    """The version an ETag of `etag_of` names for this row; None for any other tag."""
    prefix = f'"{row_id}.'
    version = etag[len(prefix) : -1]
    if etag.startswith(prefix) and etag.endswith('"') and version.isdigit():
        return int(version)
    return None

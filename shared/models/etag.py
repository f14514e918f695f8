"""The ETag format: a task's id and write counter, written and parsed only here."""

from __future__ import annotations

from shared.models.task import TaskRecord

ANY_ETAG = "*"


def etag_of(task: TaskRecord) -> str:
    """Strong ETag: the row's write counter, which moves on every successful write."""
    return f'"{task.id}.{task.version}"'


def version_in_etag(etag: str, task_id: int) -> int | None:
    """The version an ETag of `etag_of` names for this task; None for any other tag."""
    prefix = f'"{task_id}.'
    version = etag[len(prefix) : -1]
    if etag.startswith(prefix) and etag.endswith('"') and version.isdigit():
        return int(version)
    return None


def accepted_versions(tags: list[str] | None, task_id: int) -> tuple[int, ...] | None:
    """The task versions an If-Match (its entity tags, weak ones left out) accepts; None when any
    will do (no header, or `*`)."""
    if tags is None or ANY_ETAG in tags:
        return None
    return tuple(v for v in (version_in_etag(tag, task_id) for tag in tags) if v is not None)

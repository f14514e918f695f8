"""Annotated dependency aliases shared by the routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Path, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from shared.config import get_settings
from shared.db import open_session
from shared.models.limits import IDEMPOTENCY_KEY_MAX, USER_ID_MAX
from shared.parsing import BIGINT_MAX, parse_int

T = TypeVar("T")

# The dependencies below are `async def` on purpose: none does I/O, and FastAPI would run each
# plain `def` one in a worker thread, a hop that costs more than the work itself.


async def run_db(work: Callable[[Session], T], /) -> T:
    """Run `work` with the request's own session: inline on Lambda, where a container serves one
    request at a time, in the threadpool elsewhere, so a local server keeps serving while one
    request waits. Pass a lambda that calls the service, so its arguments are type-checked:
    `await run_db(lambda s: tasks.get_task(s, owner_id=owner, task_id=task_id))`."""

    def call() -> T:
        with open_session() as session:
            return work(session)

    if get_settings().on_lambda:
        return call()
    return await run_in_threadpool(call)


class OwnerNotVerified(RuntimeError):
    """A route asked for its owner, but the edge verified no token for its path: the route's
    router is missing from the app's OWNED_PREFIXES. A server bug, never the client's."""


async def current_owner(request: Request) -> str:
    """The verified token's subject; the edge middleware has checked it matches the path."""
    owner: str | None = getattr(request.state, "owner_id", None)
    if owner is None:
        raise OwnerNotVerified(f"no verified owner for {request.url.path}: its router is not an owned one")
    return owner


def parse_etags(value: str | None, *, weak_matches: bool) -> list[str] | None:
    """The entity tags of an If-Match / If-None-Match header; weak ones only where comparison is weak."""
    if value is None:
        return None
    tags = []
    for part in value.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            if not weak_matches:
                continue
            tag = tag[2:]
        if tag:
            tags.append(tag)
    return tags


async def cursor_key() -> bytes:
    return get_settings().cursor_key


ID_OUT_OF_RANGE = 0  # no entity has it: the services answer 404


class IdConvertor(Convertor[int]):
    """`{task_id:id}`: an id path segment, any run of ASCII digits, parsed totally: a value past
    the bigint range (or past Python's 4300-digit limit) is ID_OUT_OF_RANGE, never an error.
    Starlette's `int` convertor would raise on those, a 500."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        parsed = parse_int(value, max_value=BIGINT_MAX)
        return ID_OUT_OF_RANGE if parsed is None else parsed

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())

CurrentOwner = Annotated[str, Depends(current_owner)]
UserId = Annotated[
    str, Path(min_length=1, max_length=USER_ID_MAX, description="The caller's user id: the token's `sub`.")
]
TaskId = Annotated[int, Path(description="The task's id.")]
# Plain header parameters (parsed with parse_etags in the route): cheaper than a dependency each.
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="ETags the task must still have, or `*`; otherwise 412 and nothing changes."),
]
IfNoneMatch = Annotated[
    str | None, Header(alias="If-None-Match", description="ETags the client already has: 304 when one is current.")
]
CursorKey = Annotated[bytes, Depends(cursor_key)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[\x20-\x7e]+$",
        description="Replays the first response for 24 hours instead of applying the request again.",
    ),
]

"""Annotated dependency aliases shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from shared.config import get_settings
from shared.db import get_engine

T = TypeVar("T")

# The dependencies below are `async def` on purpose: none does I/O, and FastAPI would run each
# plain `def` one in a worker thread, a hop that costs more than the work itself.

# Verification happens in the edge middleware (so a bad token is a 401 whatever the body);
# this scheme only documents the requirement in OpenAPI.
bearer_scheme = HTTPBearer(auto_error=False, description="A JWT from the front end's auth; `sub` is the user id.")


async def get_session() -> AsyncIterator[Session]:
    """One session per request. Creating and closing it does no I/O: the connection is checked
    out on the first statement, and returning it issues nothing in autocommit."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


async def run_db(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call: inline on Lambda, where a container serves one request at a
    time, in the threadpool elsewhere, so a local server keeps serving while one request waits."""
    if get_settings().on_lambda:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def current_owner(request: Request, _: Annotated[Any, Depends(bearer_scheme)]) -> str:
    owner: str = request.state.owner_id
    return owner


def _parse_etags(value: str | None, *, weak_matches: bool) -> list[str] | None:
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


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match", description="ETags the task must still have, or `*`; otherwise 412 and nothing changes."
        ),
    ] = None,
) -> list[str] | None:
    return _parse_etags(value, weak_matches=False)


async def if_none_match(
    value: Annotated[
        str | None, Header(alias="If-None-Match", description="ETags the client already has: 304 when one is current.")
    ] = None,
) -> list[str] | None:
    return _parse_etags(value, weak_matches=True)


async def cursor_key() -> bytes:
    return get_settings().cursor_key


SessionDep = Annotated[Session, Depends(get_session)]
CurrentOwner = Annotated[str, Depends(current_owner)]
UserId = Annotated[str, Path(min_length=1, max_length=255, description="The caller's user id: the token's `sub`.")]
TaskId = Annotated[int, Path(description="The task's id.")]
IfMatch = Annotated[list[str] | None, Depends(if_match)]
IfNoneMatch = Annotated[list[str] | None, Depends(if_none_match)]
CursorKey = Annotated[bytes, Depends(cursor_key)]

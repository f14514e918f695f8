"""Annotated dependency aliases shared by the routes."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPBearer
from sqlmodel import Session

from shared.config import get_settings
from shared.db import get_session

# Verification happens in the edge middleware (so a bad token is a 401 whatever the body);
# this scheme only documents the requirement in OpenAPI.
bearer_scheme = HTTPBearer(auto_error=False, description="A JWT from the front end's auth; `sub` is the user id.")


def current_owner(request: Request, _: Annotated[Any, Depends(bearer_scheme)]) -> str:
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


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match", description="ETags the task must still have, or `*`; otherwise 412 and nothing changes."
        ),
    ] = None,
) -> list[str] | None:
    return _parse_etags(value, weak_matches=False)


def if_none_match(
    value: Annotated[
        str | None, Header(alias="If-None-Match", description="ETags the client already has: 304 when one is current.")
    ] = None,
) -> list[str] | None:
    return _parse_etags(value, weak_matches=True)


def cursor_key() -> bytes:
    settings = get_settings()
    secret = settings.cursor_secret or settings.auth_jwt_secret or settings.database_url
    material = secret.get_secret_value() if secret is not None else settings.auth_jwks_url or ""
    return hashlib.sha256(b"tasks-api cursor key\0" + material.encode()).digest()


SessionDep = Annotated[Session, Depends(get_session)]
CurrentOwner = Annotated[str, Depends(current_owner)]
UserId = Annotated[str, Path(min_length=1, max_length=255, description="The caller's user id: the token's `sub`.")]
TaskId = Annotated[int, Path(description="The task's id.")]
IfMatch = Annotated[list[str] | None, Depends(if_match)]
IfNoneMatch = Annotated[list[str] | None, Depends(if_none_match)]
CursorKey = Annotated[bytes, Depends(cursor_key)]

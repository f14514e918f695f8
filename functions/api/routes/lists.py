"""List routes: each one wires HTTP to a service call, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from functions.api import urls
from functions.api.deps import CurrentOwner, IfMatch, IfNoneMatch, UserId, parse_etags, run_db
from functions.api.problems import problem_responses
from functions.api.routes.tasks import JSON
from functions.api.routes.tasks import _versions as versions_in
from shared.models.etag import ANY_ETAG, etag_of
from shared.models.list_input import ListCreate, ListMove, ListUpdate
from shared.models.lists import LIST, ListPublic, ListRecord
from shared.services import lists

router = APIRouter(prefix="/api/{user_id}/lists", tags=["lists"], responses=problem_responses(401, 403, 413, 422, 503))
_WRITE_ERRORS = problem_responses(404, 412, 415)
_ETAG = {"ETag": {"schema": {"type": "string"}}}
ListId = Annotated[int, Path(description="The list's id.")]


def _list_response(row: ListRecord, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(LIST.json(row), status_code, headers={"ETag": etag_of(row), **(headers or {})}, media_type=JSON)


@router.get("", operation_id="listLists", response_model=list[ListPublic])
async def list_lists(user_id: UserId, owner: CurrentOwner) -> Response:
    """The caller's lists, in their manual order."""
    rows = await run_db(lambda s: lists.list_lists(s, owner_id=owner))
    return Response(LIST.json_many(rows), media_type=JSON)


@router.post(
    "",
    operation_id="createList",
    status_code=201,
    response_model=ListPublic,
    responses={
        **problem_responses(409, 415),
        201: {
            "headers": {"Location": {"schema": {"type": "string"}}, **_ETAG},
            "links": {
                name: {
                    "operationId": operation,
                    "parameters": {"user_id": "$request.path.user_id", "list_id": "$response.body#/id"},
                }
                for name, operation in [
                    ("GetList", "getList"),
                    ("UpdateList", "updateList"),
                    ("MoveList", "moveList"),
                    ("DeleteList", "deleteList"),
                ]
            },
        },
    },
)
async def create_list(request: Request, user_id: UserId, owner: CurrentOwner, list_in: ListCreate) -> Response:
    """Create a list for the caller, at the end of their lists. Names are unique per user, whatever their case (409)."""
    row = await run_db(lambda s: lists.create_list(s, owner_id=owner, list_in=list_in))
    location = urls.location(request, f"{router.prefix}/{{list_id}}", user_id=owner, list_id=row.id)
    return _list_response(row, 201, {"Location": location})


@router.get(
    "/{list_id:id}",
    operation_id="getList",
    response_model=ListPublic,
    responses={
        **problem_responses(404),
        304: {"description": "Not Modified: the If-None-Match ETag is current."},
        200: {"headers": _ETAG},
    },
)
async def read_list(
    list_id: ListId, user_id: UserId, owner: CurrentOwner, if_none_match: IfNoneMatch = None
) -> Response:
    """Get one of the caller's lists."""
    row = await run_db(lambda s: lists.get_list(s, owner_id=owner, list_id=list_id))
    etag = etag_of(row)
    current = parse_etags(if_none_match, weak_matches=True)
    if current is not None and (ANY_ETAG in current or etag in current):
        return Response(status_code=304, headers={"ETag": etag})
    return _list_response(row)


@router.patch(
    "/{list_id:id}",
    operation_id="updateList",
    response_model=ListPublic,
    responses={**_WRITE_ERRORS, **problem_responses(409), 200: {"headers": _ETAG}},
)
async def update_list(
    list_id: ListId, user_id: UserId, owner: CurrentOwner, list_in: ListUpdate, if_match: IfMatch = None
) -> Response:
    """Rename a list."""
    versions = versions_in(list_id, if_match)
    row = await run_db(
        lambda s: lists.update_list(s, owner_id=owner, list_id=list_id, list_in=list_in, versions=versions)
    )
    return _list_response(row)


@router.delete(
    "/{list_id:id}", operation_id="deleteList", status_code=204, response_class=Response, responses=_WRITE_ERRORS
)
async def delete_list(list_id: ListId, user_id: UserId, owner: CurrentOwner, if_match: IfMatch = None) -> Response:
    """Delete a list and every task in it."""
    versions = versions_in(list_id, if_match)
    await run_db(lambda s: lists.delete_list(s, owner_id=owner, list_id=list_id, versions=versions))
    return Response(status_code=204)


@router.post(
    "/{list_id:id}/move",
    operation_id="moveList",
    response_model=ListPublic,
    responses={**_WRITE_ERRORS, 200: {"headers": _ETAG}},
)
async def move_list(
    list_id: ListId, user_id: UserId, owner: CurrentOwner, move: ListMove, if_match: IfMatch = None
) -> Response:
    """Place a list right after another of the caller's lists (`after_id`; null: first)."""
    versions = versions_in(list_id, if_match)
    row = await run_db(lambda s: lists.move_list(s, owner_id=owner, list_id=list_id, move=move, versions=versions))
    return _list_response(row)

"""The sync route: wires HTTP to the sync service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from functions.api.deps import CurrentOwner, CursorKey, UserId, run_db
from functions.api.problems import problem_responses
from shared.models.sync import SYNC_LIMIT_DEFAULT, SYNC_LIMIT_MAX, SYNC_TOKEN_MAX, SyncPage
from shared.services import sync

router = APIRouter(prefix="/api/{user_id}", tags=["sync"], responses=problem_responses(401, 403, 422, 503))


@router.get("/sync", operation_id="sync", response_model=SyncPage, responses=problem_responses(400, 410))
async def sync_changes(
    user_id: UserId,
    owner: CurrentOwner,
    key: CursorKey,
    since: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=SYNC_TOKEN_MAX,
            description="The `sync_token` of the previous page; omitted: a full sync (live tasks and lists).",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=SYNC_LIMIT_MAX, description="At most this many tasks, lists and tombstones together.")
    ] = SYNC_LIMIT_DEFAULT,
) -> Response:
    """What changed since `since`, in change order: each entity once, in its latest state.

    A forged, truncated or another user's token is 400; a token older than the oldest kept
    tombstone (or from before a database reset) is 410 `sync-reset-required`: sync again without
    `since`.
    """
    page = await run_db(lambda s: sync.sync(s, owner_id=owner, since=since, limit=limit, key=key))
    return Response(page.json(), media_type="application/json")

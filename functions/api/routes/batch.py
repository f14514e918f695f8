"""The batch route: wires HTTP to the batch service."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from functions.api.deps import CurrentOwner, IdempotencyKey, UserId, parse_etags, run_db
from functions.api.problems import problem_responses
from shared.models.batch import BatchRequest, BatchResponse
from shared.models.etag import etag_of
from shared.models.task import task_json
from shared.services import batch

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=problem_responses(401, 403, 413, 422, 503))


def _results_json(outcome: batch.Outcome) -> bytes:
    parts = []
    for result in outcome.results:
        if result.task is None:
            parts.append(b'{"status":%d}' % result.status)
        else:
            etag = json.dumps(etag_of(result.task)).encode()
            parts.append(b'{"status":%d,"etag":%s,"task":%s}' % (result.status, etag, task_json(result.task)))
    return b'{"results":[' + b",".join(parts) + b"]}"


@router.post(
    "/batch",
    operation_id="batchTasks",
    response_model=BatchResponse,
    responses=problem_responses(404, 409, 412, 415),
)
async def run_batch(
    request: Request,
    user_id: UserId,
    owner: CurrentOwner,
    batch_in: BatchRequest,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Apply 1-100 task operations in order, all or nothing.

    Each operation means what its single route means, with the same validation; `"$<ref>"` names a
    task created earlier in the batch (in `id`, `parent_id`, `after_id`). When one fails, nothing
    is applied and the answer is that operation's status and problem, with `operation`: its index.
    """
    body_hash = batch.batch_hash(await request.json()) if idempotency_key is not None else None
    operations = [
        batch.Operation(op=o.op, id=o.id, ref=o.ref, if_match=parse_etags(o.if_match, weak_matches=False), body=o.body)
        for o in batch_in.operations
    ]
    outcome = await run_db(
        lambda s: batch.run_batch(
            s, owner_id=owner, operations=operations, idempotency_key=idempotency_key, body_hash=body_hash
        )
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return Response(_results_json(outcome), headers=headers, media_type="application/json")

"""Sync and batch through the deployed entry point (Mangum) with API Gateway events, both payload
versions: the offline-first flow end to end, and its error statuses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.functions.lambda_events import V1, V2, Invocation, load_event, with_body, with_query, without_header
from tests.support.tokens import make_token

Invoke = Callable[[dict[str, Any]], Invocation]
APIS = [V2, V1]


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def sync_event(api: str, user: str, since: str | None = None, token: str | None = None) -> dict[str, Any]:
    event = load_event(f"{api}_get_sync", user=user, token=token or make_token(user))
    if since is not None:
        with_query(event, [("since", since)], f"since={since}")
    return event


def batch_event(api: str, user: str, operations: Any = None, token: str | None = None) -> dict[str, Any]:
    event = load_event(f"{api}_post_tasks_batch", user=user, token=token or make_token(user))
    if operations is not None:
        with_body(event, json.dumps({"operations": operations}).encode(), "application/json")
    return event


@pytest.mark.parametrize("api", APIS)
def test_a_batch_then_incremental_syncs_through_the_handler(invoke: Invoke, api: str) -> None:
    user = new_user()
    full = invoke(sync_event(api, user))
    assert full.status == 200, full.response
    assert full.response["isBase64Encoded"] is False
    assert full.headers["content-type"] == "application/json"
    token = full.json()["sync_token"]
    created = invoke(batch_event(api, user))
    assert created.status == 200, created.response
    results = created.json()["results"]
    assert [r["status"] for r in results] == [201, 200]
    task = results[1]["task"]
    assert task["title"] == "Buy milk" and task["completed"] is True and results[1]["etag"] == f'"{task["id"]}.2"'
    page = invoke(sync_event(api, user, token))
    assert page.status == 200
    assert page.json()["tasks"] == [task]
    deleted = invoke(batch_event(api, user, [{"op": "delete", "id": task["id"], "if_match": results[1]["etag"]}]))
    assert deleted.status == 200 and deleted.json() == {"results": [{"status": 204}]}
    later = invoke(sync_event(api, user, page.json()["sync_token"]))
    assert [t["id"] for t in later.json()["deleted_tasks"]] == [task["id"]]
    assert later.json()["tasks"] == []


@pytest.mark.parametrize("api", APIS)
def test_a_failing_batch_answers_its_operations_problem_and_changes_nothing(invoke: Invoke, api: str) -> None:
    user = new_user()
    call = invoke(batch_event(api, user, [{"op": "create", "body": {"title": "x"}}, {"op": "delete", "id": 2**62}]))
    assert call.status == 404
    assert call.headers["content-type"] == "application/problem+json"
    assert call.json()["operation"] == 1 and call.json()["request_id"] == call.request_id
    assert invoke(sync_event(api, user)).json()["tasks"] == []


@pytest.mark.parametrize("api", APIS)
def test_sync_and_batch_refuse_missing_foreign_and_bad_credentials(invoke: Invoke, api: str) -> None:
    user, other = new_user(), new_user()
    assert invoke(without_header(sync_event(api, user), "authorization")).status == 401
    assert invoke(without_header(batch_event(api, user), "authorization")).status == 401
    assert invoke(sync_event(api, user, token=make_token(other))).status == 403
    assert invoke(batch_event(api, user, token=make_token(other))).status == 403
    others_token = invoke(sync_event(api, other)).json()["sync_token"]
    foreign = invoke(sync_event(api, user, others_token))
    assert foreign.status == 400 and foreign.json()["type"] == "urn:tasks-api:problem:bad-sync-token"
    malformed = invoke(batch_event(api, user, [{"op": "archive"}]))
    assert malformed.status == 422 and "operation" not in malformed.json()

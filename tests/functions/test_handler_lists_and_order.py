"""The Lambda entry (Mangum) fed API Gateway events for the list routes, the move route and the
manual-order listing, in both payload versions (HTTP API 2.0 and REST API 1.0)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functions.lambda_events import V2, with_body, with_header, with_query, without_header
from tests.functions.test_handler_events import APIS, Invoke, assert_json, assert_problem, create, event, new_id
from tests.support.tokens import make_token


def routed(
    api: str, user: str, method: str, path: str, body: Any = None, *, token: str | None = None
) -> dict[str, Any]:
    """An event for `method path`, built from the recorded fixtures (a POST's when there is a body)."""
    template = "post_task" if body is not None else "get_task"
    built = event(api, template, user, token=token, task_id=0)
    if api == V2:
        built["rawPath"] = path
        built["requestContext"]["http"].update(method=method, path=path)
    else:
        built.update(path=path, httpMethod=method)
        built["requestContext"].update(httpMethod=method, path=f"/prod{path}")
    built["pathParameters"] = {"proxy": path.lstrip("/")}
    if body is not None:
        with_body(built, json.dumps(body).encode(), "application/json")
    return built


def call_json(invoke: Invoke, api: str, user: str, method: str, path: str, body: Any = None) -> Any:
    call = invoke(routed(api, user, method, path, body))
    assert 200 <= call.status < 300, call.response
    return call


@pytest.mark.parametrize("api", APIS)
def test_list_routes_through_the_handler(invoke: Invoke, api: str) -> None:
    user = new_id()
    base = f"/api/{user}/lists"
    created = invoke(routed(api, user, "POST", base, {"name": "Home"}))
    body = assert_json(
        created, 201, location=f"{base}/{json.loads(created.text)['id']}", etag=f'"{json.loads(created.text)["id"]}.1"'
    )
    list_id = body["id"]
    assert set(body) == {"id", "name", "position", "created_at", "updated_at"}
    got = invoke(routed(api, user, "GET", f"{base}/{list_id}"))
    assert assert_json(got, 200, etag=f'"{list_id}.1"') == body
    not_modified = invoke(with_header(routed(api, user, "GET", f"{base}/{list_id}"), "if-none-match", f'"{list_id}.1"'))
    assert not_modified.status == 304
    renamed = invoke(routed(api, user, "PATCH", f"{base}/{list_id}", {"name": "House"}))
    assert assert_json(renamed, 200, etag=f'"{list_id}.2"')["name"] == "House"
    second = call_json(invoke, api, user, "POST", base, {"name": "Work"}).json()
    moved = invoke(routed(api, user, "POST", f"{base}/{second['id']}/move", {"after_id": None}))
    assert assert_json(moved, 200, etag=f'"{second["id"]}.2"')["id"] == second["id"]
    listed = invoke(routed(api, user, "GET", base))
    assert [row["id"] for row in assert_json(listed, 200)] == [second["id"], list_id]
    stale = with_header(routed(api, user, "DELETE", f"{base}/{list_id}"), "if-match", f'"{list_id}.1"')
    assert_problem(
        invoke(stale),
        412,
        "the list has changed since the ETag in If-Match was issued",
        type_="urn:tasks-api:problem:precondition-failed",
    )
    deleted = invoke(routed(api, user, "DELETE", f"{base}/{list_id}"))
    assert deleted.status == 204
    assert_problem(
        invoke(routed(api, user, "GET", f"{base}/{list_id}")),
        404,
        f"list {list_id} does not exist",
        type_="urn:tasks-api:problem:not-found",
    )


@pytest.mark.parametrize("api", APIS)
def test_list_name_conflict_is_409_through_the_handler(invoke: Invoke, api: str) -> None:
    user = new_id()
    call_json(invoke, api, user, "POST", f"/api/{user}/lists", {"name": "Home"})
    assert_problem(
        invoke(routed(api, user, "POST", f"/api/{user}/lists", {"name": "HOME"})),
        409,
        "you already have a list with this name",
        type_="urn:tasks-api:problem:conflict",
    )


@pytest.mark.parametrize("api", APIS)
def test_list_routes_need_a_token_and_hide_other_users_lists(invoke: Invoke, api: str) -> None:
    owner, other = new_id(), new_id()
    list_id = call_json(invoke, api, owner, "POST", f"/api/{owner}/lists", {"name": "mine"}).json()["id"]
    anonymous = without_header(routed(api, owner, "GET", f"/api/{owner}/lists/{list_id}"), "authorization")
    call = invoke(anonymous)
    assert call.status == 401
    assert call.headers["www-authenticate"].startswith("Bearer")
    foreign = routed(api, other, "GET", f"/api/{other}/lists/{list_id}", token=make_token(other))
    assert_problem(invoke(foreign), 404, f"list {list_id} does not exist", type_="urn:tasks-api:problem:not-found")


@pytest.mark.parametrize("api", APIS)
def test_move_and_the_manual_order_listing_through_the_handler(invoke: Invoke, api: str) -> None:
    user = new_id()
    list_id = call_json(invoke, api, user, "POST", f"/api/{user}/lists", {"name": "L"}).json()["id"]
    a = create(invoke, api, user, title="a", list_id=list_id)
    b = create(invoke, api, user, title="b", list_id=list_id)
    sub = create(invoke, api, user, title="sub", parent_id=a["id"])
    assert sub["list_id"] == list_id
    moved = invoke(routed(api, user, "POST", f"/api/{user}/tasks/{a['id']}/move", {"after_id": b["id"]}))
    assert assert_json(moved, 200, etag=f'"{a["id"]}.2"')["id"] == a["id"]
    listing = with_query(
        routed(api, user, "GET", f"/api/{user}/tasks"),
        [("sort", "position"), ("list_id", str(list_id)), ("parent_id", "none")],
        f"sort=position&list_id={list_id}&parent_id=none",
    )
    assert [task["id"] for task in assert_json(invoke(listing), 200)] == [b["id"], a["id"]]
    refused = invoke(routed(api, user, "POST", f"/api/{user}/tasks/{b['id']}/move", {"after_id": sub["id"]}))
    assert_problem(
        refused,
        422,
        "the request is not valid",
        type_="urn:tasks-api:problem:validation-error",
        title="Unprocessable Content",
        errors=[
            {
                "loc": ["body", "after_id"],
                "msg": "must be another of your tasks in the same list and under the same parent",
                "type": "invalid_reference",
            }
        ],
    )
    assert invoke(routed(api, user, "DELETE", f"/api/{user}/tasks/{a['id']}")).status == 204
    gone = invoke(routed(api, user, "GET", f"/api/{user}/tasks/{sub['id']}"))
    assert gone.status == 404

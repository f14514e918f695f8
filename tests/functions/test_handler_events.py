"""The deployed entry point, functions.api.handler.handler (Mangum), fed realistic API Gateway events.

Every route in both payload versions: HTTP API payload 2.0 (what the template deploys) and REST API
payload 1.0. The events are tests/events/*.json with {{user}}, {{token}} and {{task_id}} filled in.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from shared.config import normalize_database_url
from shared.models.task import PUBLIC_FIELDS
from tests.functions.lambda_events import (
    V1,
    V2,
    Invocation,
    load_event,
    with_body,
    with_header,
    with_query,
    without_header,
)
from tests.support import REPO
from tests.support.problems import PROBLEM, assert_problem
from tests.support.tokens import make_token

Invoke = Callable[[dict[str, Any]], Invocation]
APIS = [V2, V1]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
V2_ORIGIN = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
V1_ORIGIN = "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com"
TASK_ROUTES = [
    "post_task",
    "post_task_base64",
    "get_tasks_priorities",
    "get_task",
    "put_task",
    "patch_task",
    "patch_task_complete",
    "delete_task",
    "get_stats",
]
ONE_TASK_ROUTES = ["get_task", "put_task", "patch_task", "patch_task_complete", "delete_task"]


def event(api: str, name: str, user: str, *, token: str | None = None, task_id: int | str = 0) -> dict[str, Any]:
    return load_event(
        f"{api}_{name}", user=user, token=token if token is not None else make_token(user), task_id=str(task_id)
    )


def new_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def assert_json(call: Invocation, status: int, **headers: str) -> Any:
    """A JSON response exactly as API Gateway needs it: plain text, every header accounted for."""
    assert call.status == status, call.response
    assert call.response["isBase64Encoded"] is False
    body = call.response["body"]
    expected_headers = {
        **{k.lower(): v for k, v in headers.items()},
        "content-length": str(len(body.encode())),
        "content-type": "application/json",
        "x-request-id": call.request_id,
    }
    assert call.headers == expected_headers
    if "version" in call.event:
        assert set(call.response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    else:
        assert set(call.response) == {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
        assert call.response["multiValueHeaders"] == {}
    return json.loads(body)


def assert_gateway_problem(
    call: Invocation,
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    """The one strict problem check (tests/support/problems.py), carrying the invocation's
    aws_request_id, in an API Gateway envelope with every header accounted for (base64 or not:
    see the test below)."""
    assert_problem(call, status, detail, type_=type_, title=title or HTTPStatus(status).phrase, errors=errors)
    assert call.headers == {
        **{k.lower(): v for k, v in (headers or {}).items()},
        "content-length": str(len(call.text.encode())),
        "content-type": PROBLEM,
        "x-request-id": call.request_id,
    }
    if errors is not None:
        assert call.json()["errors"] == errors
    if "version" not in call.event:
        assert call.response["multiValueHeaders"] == {}


def assert_task(body: dict[str, Any], **expected: Any) -> None:
    assert set(body) == set(PUBLIC_FIELDS)
    assert {k: body[k] for k in expected} == expected
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    assert body["completed_at"] is None or TIMESTAMP.match(body["completed_at"])


def create(invoke: Invoke, api: str, user: str, **fields: Any) -> dict[str, Any]:
    """A task created through the POST fixture (its body replaced when fields are given)."""
    post = event(api, "post_task", user)
    if fields:
        with_body(post, json.dumps(fields).encode(), "application/json")
    call = invoke(post)
    assert call.status == 201, call.response
    body: dict[str, Any] = call.json()
    return body


# --- routes that need no token ---------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_health_answers_200_json_with_no_token(invoke: Invoke, api: str) -> None:
    call = invoke(load_event(f"{api}_get_health"))
    assert assert_json(call, 200) == {"status": "ok"}


@pytest.mark.parametrize("api", APIS)
def test_the_root_path_has_no_route_and_answers_a_404_problem(invoke: Invoke, api: str) -> None:
    call = invoke(event(api, "get_root", new_id()))
    assert_gateway_problem(call, 404, "Not Found")


@pytest.mark.parametrize("name", ["delete_tasks_collection", "options_tasks"])
@pytest.mark.parametrize("api", APIS)
def test_a_method_the_collection_does_not_have_answers_405_with_allow(invoke: Invoke, api: str, name: str) -> None:
    call = invoke(event(api, name, new_id()))
    assert_gateway_problem(call, 405, "Method Not Allowed", headers={"Allow": "GET, POST"})


# --- every task route --------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_create_answers_201_json_with_location_and_etag(invoke: Invoke, api: str) -> None:
    user = new_id()
    call = invoke(event(api, "post_task", user))
    body = call.json()
    task_id = body["id"]
    assert assert_json(call, 201, ETag=f'"{task_id}.1"', Location=f"/api/{user}/tasks/{task_id}") == body
    assert_task(
        body,
        user_id=user,
        title="Buy milk",
        description="2 litres, semi-skimmed",
        completed=False,
        completed_at=None,
        priority="high",
        due_at="2031-05-01T07:00:00.000000Z",
        tags=["home", "errands"],
    )
    assert body["created_at"] == body["updated_at"]


@pytest.mark.parametrize("api", APIS)
def test_create_decodes_a_base64_encoded_json_body(invoke: Invoke, api: str) -> None:
    user = new_id()
    request = event(api, "post_task_base64", user)
    assert request["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(request["body"])) == {
        "title": "Café au lait ☕",
        "priority": "low",
        "tags": ["Kitchen"],
    }
    call = invoke(request)
    body = call.json()
    assert assert_json(call, 201, ETag=f'"{body["id"]}.1"', Location=f"/api/{user}/tasks/{body['id']}") == body
    assert_task(
        body,
        user_id=user,
        title="Café au lait ☕",
        description=None,
        priority="low",
        tags=["kitchen"],
        due_at=None,
        completed=False,
    )


@pytest.mark.parametrize("api", APIS)
def test_get_one_answers_the_task_with_its_etag(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    call = invoke(event(api, "get_task", user, task_id=created["id"]))
    assert assert_json(call, 200, ETag=f'"{created["id"]}.1"') == created


@pytest.mark.parametrize("api", APIS)
def test_list_with_a_repeated_priority_key_filters_on_both_and_its_link_keeps_both(invoke: Invoke, api: str) -> None:
    """v2 reads rawQueryString (its comma-joined `priority=low,high` would be a 422); v1 reads
    multiValueQueryStringParameters (its single-value dict holds only `high`)."""
    user = new_id()
    low = create(invoke, api, user, title="low one", priority="low")
    create(invoke, api, user, title="medium one", priority="medium")
    high = create(invoke, api, user, title="high one", priority="high")

    first = invoke(event(api, "get_tasks_priorities", user))
    link = first.headers.get("link", "")
    match = re.fullmatch(
        r'<(https://[^/]+)(/[^?]*)\?priority=low&priority=high&sort=-priority&limit=1&cursor=([A-Za-z0-9_\-.~%]+)>; rel="next"',
        link,
    )
    assert match, link
    origin, path, cursor = match.groups()
    assert (origin, path) == (V2_ORIGIN if api == V2 else V1_ORIGIN, f"/api/{user}/tasks")
    assert assert_json(first, 200, Link=link) == [high]

    follow = event(api, "get_tasks_priorities", user)
    pairs = [("priority", "low"), ("priority", "high"), ("sort", "-priority"), ("limit", "1"), ("cursor", cursor)]
    with_query(follow, pairs, link[len(origin + path) + 2 : -len('>; rel="next"')])
    second = invoke(follow)
    assert assert_json(second, 200) == [low]


@pytest.mark.parametrize("api", APIS)
def test_put_replaces_every_editable_field(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    call = invoke(event(api, "put_task", user, task_id=created["id"]))
    body = assert_json(call, 200, ETag=f'"{created["id"]}.2"')
    assert_task(
        body,
        id=created["id"],
        user_id=user,
        title="Buy oat milk",
        description=None,
        completed=True,
        priority="low",
        due_at=None,
        tags=["shopping"],
        created_at=created["created_at"],
    )
    assert body["completed_at"] is not None and body["updated_at"] > created["updated_at"]


@pytest.mark.parametrize("api", APIS)
def test_patch_changes_only_the_fields_sent(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    call = invoke(event(api, "patch_task", user, task_id=created["id"]))
    body = assert_json(call, 200, ETag=f'"{created["id"]}.2"')
    unchanged = {k: created[k] for k in PUBLIC_FIELDS if k not in {"description", "tags", "updated_at"}}
    assert_task(body, **unchanged, description="from the corner shop", tags=["home", "urgent"])
    assert body["updated_at"] > created["updated_at"]


@pytest.mark.parametrize("api", APIS)
def test_complete_without_a_body_toggles_completion_each_time(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    request = event(api, "patch_task_complete", user, task_id=created["id"])
    assert request["body"] is None if api == V1 else "body" not in request

    done = assert_json(invoke(request), 200, ETag=f'"{created["id"]}.2"')
    assert_task(done, id=created["id"], completed=True, title="Buy milk")
    assert done["completed_at"] is not None

    undone = assert_json(
        invoke(event(api, "patch_task_complete", user, task_id=created["id"])), 200, ETag=f'"{created["id"]}.3"'
    )
    assert_task(undone, id=created["id"], completed=False, completed_at=None)


@pytest.mark.parametrize("api", APIS)
def test_delete_answers_204_with_an_empty_body_and_the_task_is_gone(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    call = invoke(event(api, "delete_task", user, task_id=created["id"]))
    assert call.status == 204
    assert call.response["body"] == ""
    assert call.response["isBase64Encoded"] is False
    if api == V2:
        # Mangum's payload-2.0 response adds content-type application/json whenever the app sent none.
        assert call.headers == {"content-type": "application/json", "x-request-id": call.request_id}
    else:
        assert call.headers == {"x-request-id": call.request_id}
        assert call.response["multiValueHeaders"] == {}

    gone = invoke(event(api, "get_task", user, task_id=created["id"]))
    assert_gateway_problem(gone, 404, f"task {created['id']} does not exist", type_="urn:tasks-api:problem:not-found")


@pytest.mark.parametrize("api", APIS)
def test_stats_count_the_callers_tasks(invoke: Invoke, api: str) -> None:
    user = new_id()
    create(invoke, api, user)
    second = create(invoke, api, user, title="water the plants", due_at="2001-01-01T00:00:00Z")
    third = create(invoke, api, user, title="call mum")
    assert invoke(event(api, "patch_task_complete", user, task_id=third["id"])).status == 200
    create(invoke, api, new_id())  # someone else's: not counted

    call = invoke(event(api, "get_stats", user))
    assert assert_json(call, 200) == {"total": 3, "pending": 2, "completed": 1, "overdue": 1}
    assert second["due_at"] == "2001-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("api", APIS)
def test_a_stale_if_match_answers_412_and_changes_nothing(invoke: Invoke, api: str) -> None:
    user = new_id()
    created = create(invoke, api, user)
    request = with_header(event(api, "patch_task", user, task_id=created["id"]), "If-Match", f'"{created["id"]}.7"')
    call = invoke(request)
    assert call.status == 412
    assert json.loads(call.text)["request_id"] == call.request_id
    assert (
        assert_json(invoke(event(api, "get_task", user, task_id=created["id"])), 200, ETag=f'"{created["id"]}.1"')
        == created
    )


# --- authentication, authorization, ownership ---------------------------------------------------


@pytest.mark.parametrize("name", TASK_ROUTES)
@pytest.mark.parametrize("api", APIS)
def test_a_task_route_without_a_token_answers_401_with_a_bearer_challenge(invoke: Invoke, api: str, name: str) -> None:
    call = invoke(without_header(event(api, name, new_id(), task_id=1), "authorization"))
    assert_gateway_problem(
        call, 401, "a bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="tasks-api"'}
    )


@pytest.mark.parametrize("name", TASK_ROUTES)
@pytest.mark.parametrize("api", APIS)
def test_a_task_route_under_another_users_path_answers_403(invoke: Invoke, api: str, name: str) -> None:
    victim = new_id()
    victims_task = create(invoke, api, victim)
    call = invoke(event(api, name, victim, token=make_token(new_id()), task_id=victims_task["id"]))
    assert_gateway_problem(call, 403, "the path's user id is not the token's subject")


@pytest.mark.parametrize("name", ONE_TASK_ROUTES)
@pytest.mark.parametrize("api", APIS)
def test_someone_elses_task_answers_404_and_stays_unchanged(invoke: Invoke, api: str, name: str) -> None:
    owner, intruder = new_id(), new_id()
    task = create(invoke, api, owner)
    call = invoke(event(api, name, intruder, task_id=task["id"]))
    assert_gateway_problem(call, 404, f"task {task['id']} does not exist", type_="urn:tasks-api:problem:not-found")
    assert assert_json(invoke(event(api, "get_task", owner, task_id=task["id"])), 200, ETag=f'"{task["id"]}.1"') == task


# --- request errors ------------------------------------------------------------------------------

TOO_LARGE = json.dumps({"title": "big", "description": "x" * (64 * 1024)}).encode()
TOO_LARGE_DETAIL = "the request body is larger than 65536 bytes"


def test_a_declared_body_over_64_kib_answers_413_even_before_authentication(invoke: Invoke) -> None:
    request = with_body(event(V2, "post_task", new_id()), TOO_LARGE, "application/json")
    without_header(request, "authorization")
    assert request["headers"]["content-length"] == str(len(TOO_LARGE))
    assert_gateway_problem(invoke(request), 413, TOO_LARGE_DETAIL)


@pytest.mark.parametrize("api", APIS)
def test_a_body_over_64_kib_without_a_content_length_answers_413(invoke: Invoke, api: str) -> None:
    """REST API events carry no Content-Length: the streamed-body limit must catch it."""
    user = new_id()
    request = without_header(with_body(event(api, "post_task", user), TOO_LARGE, "application/json"), "content-length")
    assert_gateway_problem(invoke(request), 413, TOO_LARGE_DETAIL)
    assert assert_json(invoke(event(api, "get_tasks_priorities", user)), 200) == []


@pytest.mark.parametrize("api", APIS)
def test_a_body_that_is_not_json_answers_415(invoke: Invoke, api: str) -> None:
    """As each gateway sends it: HTTP API with content-length, REST API without."""
    user = new_id()
    request = with_body(event(api, "post_task", user), b"title=Buy milk", "text/plain")
    assert_gateway_problem(invoke(request), 415, "the request body must be application/json")
    assert assert_json(invoke(event(api, "get_tasks_priorities", user)), 200) == []


@pytest.mark.parametrize("api", APIS)
def test_an_invalid_body_answers_422_with_its_errors(invoke: Invoke, api: str) -> None:
    user = new_id()
    request = with_body(
        event(api, "post_task", user),
        json.dumps({"title": "ok", "priority": "urgent", "owner": "x"}).encode(),
        "application/json",
    )
    call = invoke(request)
    assert_gateway_problem(
        call,
        422,
        "the request is not valid",
        type_="urn:tasks-api:problem:validation-error",
        errors=[
            {"loc": ["body", "priority"], "msg": "Input should be 'low', 'medium' or 'high'", "type": "enum"},
            {"loc": ["body", "owner"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"},
        ],
    )


def _problem_events(api: str) -> dict[str, Callable[[], dict[str, Any]]]:
    user = "user-b64check"
    return {
        "401": lambda: without_header(event(api, "get_stats", user), "authorization"),
        "403": lambda: event(api, "get_stats", user, token=make_token("someone-else")),
        "404 no route": lambda: event(api, "get_root", user),
        "404 no task": lambda: event(api, "get_task", user, task_id=2_000_000_000),
        "405": lambda: event(api, "delete_tasks_collection", user),
        "413": lambda: without_header(
            with_body(event(api, "post_task", user), TOO_LARGE, "application/json"), "content-length"
        ),
        "415": lambda: with_body(event(api, "post_task", user), b"title=x", "text/plain"),
        "422": lambda: with_body(event(api, "post_task", user), b'{"title": ""}', "application/json"),
    }


@pytest.mark.parametrize("case", ["401", "403", "404 no route", "404 no task", "405", "413", "415", "422"])
@pytest.mark.parametrize("api", APIS)
def test_a_problem_response_is_plain_json_not_base64(invoke: Invoke, api: str, case: str) -> None:
    """API Gateway passes isBase64Encoded bodies through; a REST API without binary media types
    hands the client the base64 text itself."""
    call = invoke(_problem_events(api)[case]())
    assert call.headers["content-type"] == PROBLEM
    assert call.response["isBase64Encoded"] is False
    assert json.loads(call.response["body"])["request_id"] == call.request_id


# --- the Lambda container -------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_each_invocation_answers_with_its_own_aws_request_id(invoke: Invoke, api: str) -> None:
    user = new_id()
    first = invoke(event(api, "get_stats", user))
    second = invoke(without_header(event(api, "get_stats", user), "authorization"))
    assert first.request_id != second.request_id
    assert first.headers["x-request-id"] == first.request_id
    assert second.headers["x-request-id"] == second.request_id
    assert json.loads(second.text)["request_id"] == second.request_id


def test_two_invocations_reuse_the_same_engine(invoke: Invoke) -> None:
    import shared.db

    user = new_id()
    assert invoke(event(V2, "get_stats", user)).status == 200
    engine = shared.db._engine
    assert engine is not None
    pool_before = engine.pool
    assert invoke(event(V1, "get_stats", user)).status == 200
    assert create(invoke, V2, user)["user_id"] == user
    assert shared.db._engine is engine
    assert engine.pool is pool_before
    assert engine.pool.checkedout() == 0


PROBE = r"""
import json, sys
import psycopg2
import shared.db
from functions.api.handler import handler
from tests.support.lambda_context import FakeLambdaContext

def count():
    with psycopg2.connect(sys.argv[1], application_name="probe-counter") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (sys.argv[2],))
        return cur.fetchone()[0]

result = {"engine_after_import": shared.db._engine is not None, "connections_after_import": count()}
health = json.load(open(sys.argv[3]))
result["health_status"] = handler(health, FakeLambdaContext("probe"))["statusCode"]
result["engine_after_health"] = shared.db._engine is not None
result["connections_after_health"] = count()
connection = shared.db.get_engine().connect()
result["connections_after_connect"] = count()
connection.close()
print(json.dumps(result))
"""


def test_importing_the_handler_opens_no_database_connection(direct_database_url: str) -> None:
    """Nothing at init (SnapStart, cold start): no engine, no connection, until a route needs one.

    Counted on the direct endpoint: behind a transaction pooler, server connections are shared
    and carry whichever client's application_name used them last."""
    database_url = direct_database_url
    application_name = f"tasks-api-import-probe-{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in database_url else "?"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_ENV": "test",
        "AWS_LAMBDA_FUNCTION_NAME": "tasks-api-probe",
        "DATABASE_URL": f"{database_url}{separator}application_name={application_name}",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            database_url,
            application_name,
            str(REPO / "tests/events/http_api_v2_get_health.json"),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {
        "engine_after_import": False,
        "connections_after_import": 0,
        "health_status": 200,
        "engine_after_health": False,
        "connections_after_health": 0,
        "connections_after_connect": 1,
    }
    # The probe has exited; its backend leaves pg_stat_activity a moment later (the server notices
    # the closed socket asynchronously), so wait for that, within a bound.
    engine = create_engine(normalize_database_url(database_url))
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while True:
            left = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            ).scalar()
            connection.rollback()  # pg_stat_activity is read once per transaction
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    engine.dispose()
    assert left == 0

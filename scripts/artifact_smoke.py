"""Import the built Lambda artifact the way Lambda does and feed it API Gateway events.

Run by scripts/artifact_smoke.sh as `python3.12 -I -S artifact_smoke.py FUNCTION_DIR`: isolated
mode and no site-packages, so only the stdlib and FUNCTION_DIR are importable. To cover more
routes, append to CASES (http_v2() copies the HTTP API fixture with another method/path/headers).

With SMOKE_WITH_DATABASE=1 (artifact_smoke.sh sets it when SMOKE_DATABASE_URL is given) the task
routes run too, against DATABASE_URL, which must already be migrated: DATABASE_CASES, in order, as
one fresh user whose HS256 token is signed here with AUTH_JWT_SECRET (stdlib hmac, so nothing from
outside the artifact is imported).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import importlib.util
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "tests" / "events"


def load_event(name: str, **placeholders: str) -> dict[str, Any]:
    """tests/events/<name> with every {{placeholder}} filled in."""
    text = (EVENTS_DIR / name).read_text()
    for key, value in placeholders.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        sys.exit(f"FAIL: {name} has an unfilled placeholder")
    event: dict[str, Any] = json.loads(text)
    return event


def http_v2(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """A payload-2.0 event as the $default-stage catch-all route delivers it."""
    event = copy.deepcopy(load_event("http_api_v2_get_health.json"))
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["requestContext"]["http"].update(method=method, path=path)
    if path == "/":  # the "ANY /" route: no proxy path parameter
        event.pop("pathParameters", None)
        event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /"
    else:
        event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(event["body"].encode()))
    return event


State = dict[str, Any]
Check = Callable[[dict[str, Any], Any, State], list[str]]


@dataclass
class Case:
    name: str
    event: dict[str, Any] | Callable[[State], dict[str, Any]]  # a callable builds it when the case runs
    status: int
    json_body: Any = None  # compared when not None; a callable gets the state
    check: Check | None = None  # more problems, from the response, its decoded body and the state


CASES: list[Case] = [
    Case("v2 GET /health", load_event("http_api_v2_get_health.json"), 200, {"status": "ok"}),
    Case("v1 GET /health", load_event("rest_api_v1_get_health.json"), 200, {"status": "ok"}),
    Case(
        "v2 GET /health?x=1 via helper",
        http_v2("GET", "/health", query="x=1"),
        200,
        {"status": "ok"},
    ),
    # /docs works offline: its assets ship in the artifact (fastapi-offline, in requirements.txt).
    Case("v2 GET /docs", http_v2("GET", "/docs"), 200),
    Case(
        "v2 GET /docs/assets/swagger-ui-bundle.js",
        http_v2("GET", "/docs/assets/swagger-ui-bundle.js", headers={"accept-encoding": "identity"}),
        200,
    ),
]


# --- task routes against SMOKE_DATABASE_URL (already migrated) ---------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_token(subject: str, secret: str, lifetime: int = 300) -> str:
    """An HS256 JWT, by hand: the stdlib only, nothing imported from outside the artifact."""
    now = int(time.time())
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"sub": subject, "iat": now, "exp": now + lifetime}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def new_state() -> State:
    user = f"smoke-{uuid.uuid4().hex[:12]}"
    secret = os.environ.get("AUTH_JWT_SECRET", "")
    return {"user": user, "token": sign_token(user, secret) if secret else "", "task": None}


def task_event(name: str, *, token: bool = True) -> Callable[[State], dict[str, Any]]:
    def build(state: State) -> dict[str, Any]:
        task_id = str(state["task"]["id"]) if state["task"] else "0"
        event = load_event(name, user=state["user"], token=state["token"], task_id=task_id)
        if not token:
            for field in ("headers", "multiValueHeaders"):
                for key in [k for k in event.get(field) or {} if k.lower() == "authorization"]:
                    del event[field][key]
        return event

    return build


def expect_headers(**expected: str | None) -> Callable[[dict[str, Any], State], list[str]]:
    """Exact header values (None: must be absent); values may name state: {id}, {user}."""

    def check(response: dict[str, Any], state: State) -> list[str]:
        headers = response.get("headers") or {}
        task_id = state["task"]["id"] if state["task"] else ""
        problems = []
        for name, value in expected.items():
            want = None if value is None else value.format(id=task_id, user=state["user"])
            if headers.get(name) != want:
                problems.append(f"header {name}: {headers.get(name)!r} != {want!r}")
        return problems

    return check


def task_check(*, etag_version: int, keep: bool = False, **fields: Any) -> Check:
    """A task response: exact fields, the owner, a strong ETag; keep=True remembers it as the task."""
    headers = expect_headers(**{"content-type": "application/json", "etag": f'"{{id}}.{etag_version}"'})

    def check(response: dict[str, Any], body: Any, state: State) -> list[str]:
        if not isinstance(body, dict):
            return [f"body is not a task: {body!r}"]
        if keep:
            state["task"] = dict(body)
        problems = headers(response, state)
        if body.get("user_id") != state["user"]:
            problems.append(f"user_id {body.get('user_id')!r} != {state['user']!r}")
        if state["task"] and body.get("id") != state["task"]["id"]:
            problems.append(f"id {body.get('id')!r} != {state['task']['id']!r}")
        problems += [f"{k}: {body.get(k)!r} != {v!r}" for k, v in fields.items() if body.get(k) != v]
        return problems

    return check


def _created(response: dict[str, Any], body: Any, state: State) -> list[str]:
    state["task"] = None
    problems = task_check(
        etag_version=1, keep=True, title="Buy milk", priority="high", tags=["home", "errands"], completed=False
    )(response, body, state)
    return problems + expect_headers(location="/api/{user}/tasks/{id}")(response, state)


def _problem(status: int, detail: str, **headers: str) -> Check:
    def check(response: dict[str, Any], body: Any, state: State) -> list[str]:
        problems = expect_headers(**{"content-type": "application/problem+json", **headers})(response, state)
        if not isinstance(body, dict) or (body.get("status"), body.get("detail"), body.get("request_id")) != (
            status,
            detail,
            state["request_id"],
        ):
            problems.append(f"problem body {body!r}")
        return problems

    return check


def _mirror_state_task(response: dict[str, Any], body: Any, state: State) -> list[str]:
    return [] if body == [state["task"]] else [f"list {body!r} != [the created task]"]


def _same_as_state_task(response: dict[str, Any], body: Any, state: State) -> list[str]:
    return ([] if body == state["task"] else [f"body {body!r} != the created task"]) + expect_headers(etag='"{id}.1"')(
        response, state
    )


def _empty(response: dict[str, Any], body: Any, state: State) -> list[str]:
    return (
        []
        if response.get("body") == "" and response.get("isBase64Encoded") is False
        else [f"204 body {response.get('body')!r}"]
    )


DATABASE_CASES: list[Case] = [
    Case(
        "v2 POST /api/{user}/tasks (no token)",
        task_event("http_api_v2_post_task.json", token=False),
        401,
        check=_problem(401, "a bearer token is required", **{"www-authenticate": 'Bearer realm="tasks-api"'}),
    ),
    Case("v2 POST /api/{user}/tasks", task_event("http_api_v2_post_task.json"), 201, check=_created),
    Case("v2 GET /api/{user}/tasks/{id}", task_event("http_api_v2_get_task.json"), 200, check=_same_as_state_task),
    Case("v1 GET /api/{user}/tasks/{id}", task_event("rest_api_v1_get_task.json"), 200, check=_same_as_state_task),
    Case(
        "v2 GET /api/{user}/tasks?priority=low&priority=high",
        task_event("http_api_v2_get_tasks_priorities.json"),
        200,
        check=lambda response, body, state: (
            _mirror_state_task(response, body, state) + expect_headers(link=None)(response, state)
        ),
    ),
    Case(
        "v2 PATCH /api/{user}/tasks/{id}",
        task_event("http_api_v2_patch_task.json"),
        200,
        check=task_check(
            etag_version=2, keep=True, title="Buy milk", description="from the corner shop", tags=["home", "urgent"]
        ),
    ),
    Case(
        "v2 PATCH /api/{user}/tasks/{id}/complete",
        task_event("http_api_v2_patch_task_complete.json"),
        200,
        check=task_check(etag_version=3, keep=True, completed=True, description="from the corner shop"),
    ),
    Case(
        "v2 GET /api/{user}/tasks/stats",
        task_event("http_api_v2_get_stats.json"),
        200,
        {"total": 1, "pending": 0, "completed": 1, "overdue": 0},
    ),
    Case("v2 DELETE /api/{user}/tasks/{id}", task_event("http_api_v2_delete_task.json"), 204, check=_empty),
    Case(
        "v2 GET /api/{user}/tasks/{id} (deleted)",
        task_event("http_api_v2_get_task.json"),
        404,
        check=lambda response, body, state: _problem(404, f"task {state['task']['id']} does not exist")(
            response, body, state
        ),
    ),
    Case(
        "v2 POST /api/{user}/tasks (base64 body)",
        task_event("http_api_v2_post_task_base64.json"),
        201,
        check=lambda response, body, state: (
            []
            if isinstance(body, dict) and body.get("title") == "Café au lait ☕" and body.get("tags") == ["kitchen"]
            else [f"body {body!r}"]
        ),
    ),
]


class FakeContext:
    function_name = "tasks-api-smoke"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tasks-api-smoke:live"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/tasks-api-smoke"
    log_stream_name = "smoke"

    def __init__(self, aws_request_id: str = "00000000-0000-4000-8000-000000000000") -> None:
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def check_isolation(function_dir: Path) -> None:
    """Third-party code must come from the artifact, with the precompiled bytecode shipped."""
    for name in ("fastapi", "pydantic_core", "sqlalchemy", "mangum", "functions.api.handler"):
        module = sys.modules.get(name)
        if module is None:
            continue
        origin = Path(module.__file__ or "")
        if function_dir not in origin.parents:
            sys.exit(f"FAIL: {name} imported from {origin}, outside the artifact")
        if origin.suffix == ".py" and not Path(importlib.util.cache_from_source(str(origin))).exists():
            sys.exit(f"FAIL: {name} has no precompiled bytecode in the artifact")


def run(function_dir: Path) -> int:
    sys.dont_write_bytecode = True  # like Lambda's read-only /var/task: only shipped .pyc count
    sys.path.insert(0, str(function_dir))
    started = time.perf_counter()
    handler_module = importlib.import_module("functions.api.handler")
    print(f"imported functions.api.handler in {time.perf_counter() - started:.2f}s")
    check_isolation(function_dir)

    cases = CASES + (DATABASE_CASES if os.environ.get("SMOKE_WITH_DATABASE") == "1" else [])
    state: State = new_state()
    failures = 0
    for index, case in enumerate(cases):
        event = case.event(state) if callable(case.event) else case.event
        context = FakeContext(f"smoke-{index:02d}-{uuid.uuid4()}")
        response = handler_module.handler(copy.deepcopy(event), context)
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        problems = []
        if response["statusCode"] != case.status:
            problems.append(f"status {response['statusCode']} != {case.status}")
        if (response.get("headers") or {}).get("x-request-id") != context.aws_request_id:
            problems.append("x-request-id is not the invocation's aws_request_id")
        expected = case.json_body(state) if callable(case.json_body) else case.json_body
        parsed: Any = None
        if expected is not None or case.check is not None:
            if response.get("isBase64Encoded"):
                problems.append("JSON body came back base64-encoded")
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                problems.append(f"body is not JSON: {body[:200]!r}")
        if expected is not None and parsed != expected:
            problems.append(f"body {body[:200]!r}")
        if case.check is not None and not problems:
            state["request_id"] = context.aws_request_id
            problems += case.check(response, parsed, state)
        failures += bool(problems)
        outcome = "; ".join(problems) or response["statusCode"]
        print(f"{'FAIL' if problems else 'ok  '} {case.name}: {outcome}")
    warm = handler_module.handler(dict(handler_module.KEEP_WARM_EVENT), FakeContext(f"smoke-warm-{uuid.uuid4()}"))
    keep_warm_ok = warm == {"status": "warm"}
    failures += not keep_warm_ok
    print(f"{'ok  ' if keep_warm_ok else 'FAIL'} scheduled keep-warm event: {warm}")
    print(f"{len(cases) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: artifact_smoke.py FUNCTION_DIR")
    sys.exit(run(Path(sys.argv[1]).resolve()))

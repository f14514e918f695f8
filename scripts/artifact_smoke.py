"""Import the built Lambda artifact the way Lambda does and feed it API Gateway events.

Run by scripts/artifact_smoke.sh as `python3.12 -I -S artifact_smoke.py FUNCTION_DIR`: isolated
mode and no site-packages, so only the stdlib and FUNCTION_DIR are importable. To cover more
routes, append to CASES (http_v2() copies the HTTP API fixture with another method/path/headers).
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "tests" / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


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


@dataclass
class Case:
    name: str
    event: dict[str, Any]
    status: int
    json_body: Any = None  # compared when not None


CASES: list[Case] = [
    Case("v2 GET /health", load_event("http_api_v2_get_health.json"), 200, {"status": "ok"}),
    Case("v1 GET /health", load_event("rest_api_v1_get_health.json"), 200, {"status": "ok"}),
    Case(
        "v2 GET /health?x=1 via helper",
        http_v2("GET", "/health", query="x=1"),
        200,
        {"status": "ok"},
    ),
]


class FakeContext:
    function_name = "tasks-api-smoke"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tasks-api-smoke:live"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/tasks-api-smoke"
    log_stream_name = "smoke"

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
        if (
            origin.suffix == ".py"
            and not Path(importlib.util.cache_from_source(str(origin))).exists()
        ):
            sys.exit(f"FAIL: {name} has no precompiled bytecode in the artifact")


def run(function_dir: Path) -> int:
    sys.dont_write_bytecode = True  # like Lambda's read-only /var/task: only shipped .pyc count
    sys.path.insert(0, str(function_dir))
    started = time.perf_counter()
    handler_module = importlib.import_module("functions.api.handler")
    print(f"imported functions.api.handler in {time.perf_counter() - started:.2f}s")
    check_isolation(function_dir)

    failures = 0
    for case in CASES:
        response = handler_module.handler(copy.deepcopy(case.event), FakeContext())
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        problems = []
        if response["statusCode"] != case.status:
            problems.append(f"status {response['statusCode']} != {case.status}")
        if case.json_body is not None:
            if response.get("isBase64Encoded"):
                problems.append("JSON body came back base64-encoded")
            if json.loads(body or "null") != case.json_body:
                problems.append(f"body {body[:200]!r}")
        failures += bool(problems)
        outcome = "; ".join(problems) or response["statusCode"]
        print(f"{'FAIL' if problems else 'ok  '} {case.name}: {outcome}")
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: artifact_smoke.py FUNCTION_DIR")
    sys.exit(run(Path(sys.argv[1]).resolve()))

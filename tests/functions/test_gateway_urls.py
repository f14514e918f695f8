"""Issue 10: through the real Lambda handler (Mangum), for every subject the contract allows, the
Location of a created task and the Link of a listing are valid URIs (so Latin-1 encodable) that lead
back to the same task and the next page. REST API (payload 1.0) events keep their stage prefix.

How API Gateway hands over the path differs: a REST API passes it percent-encoded (and the stage
only in requestContext.path), an HTTP API passes it already decoded. Both are modelled here; the
HTTP API case is also tried with the encoded spelling a hand-made event would carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings

from tests.api.strategies import assert_valid_uri, encoded_segment, link_target, subs
from tests.functions.lambda_events import Invocation, load_event, with_body, without_header
from tests.support.tokens import make_token

Invoke = Callable[[dict[str, Any]], Invocation]
STAGE = "dev"
REST, HTTP_DECODED, HTTP_ENCODED = "rest_v1", "http_v2_decoded", "http_v2_encoded"


def gateway_event(api: str, method: str, url: str, token: str, body: Any = None) -> dict[str, Any]:
    """The event API Gateway sends for a request to `url` (a path-absolute or absolute URL, encoded)."""
    parts = urlsplit(url)
    path, query = parts.path, parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if api == REST:
        assert path.startswith(f"/{STAGE}/"), path  # every URL the service emits keeps the stage
        event = load_event("rest_api_v1_get_task", user="placeholder", token=token, task_id="1")
        event["httpMethod"] = event["requestContext"]["httpMethod"] = method
        event["path"] = path[len(STAGE) + 1 :]
        event["requestContext"].update(path=path, stage=STAGE)
        event["pathParameters"] = {"proxy": event["path"][1:]}
        multi: dict[str, list[str]] = {}
        for key, value in pairs:
            multi.setdefault(key, []).append(value)
        event["multiValueQueryStringParameters"] = multi or None
        event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    else:
        event = load_event("http_api_v2_get_task", user="placeholder", token=token, task_id="1")
        routed = unquote(path) if api == HTTP_DECODED else path
        event["rawPath"] = event["requestContext"]["http"]["path"] = routed
        event["requestContext"]["http"]["method"] = method
        event["pathParameters"] = {"proxy": routed[1:]}
        event["rawQueryString"] = query
        joined: dict[str, str] = {}
        for key, value in pairs:
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        event["queryStringParameters"] = joined or None
    if body is None:
        event["body"] = None
        without_header(event, "content-length")
    else:
        with_body(event, json.dumps(body).encode(), "application/json")
    return event


def assert_headers_are_ascii(call: Invocation) -> None:
    assert call.status < 500, call.response
    for name, value in call.headers.items():
        assert value.isascii(), (name, value)


@pytest.mark.parametrize("api", [REST, HTTP_DECODED, HTTP_ENCODED])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sub=subs)
@example(sub="用户")
@example(sub="josé")
@example(sub="a%20b")
@example(sub="a b")
@example(sub="%")
@example(sub="?#")
def test_location_and_link_lead_back_through_api_gateway(invoke: Invoke, api: str, sub: str) -> None:
    token = make_token(sub)
    prefix = f"/{STAGE}" if api == REST else ""
    collection = f"{prefix}/api/{encoded_segment(sub)}/tasks"
    if api == HTTP_DECODED and ("?" in sub or "#" in sub):
        # An HTTP API truncates a decoded path at `?`/`#` before it invokes anything: such a
        # subject cannot reach the function through it at all.
        return
    created, locations = [], []
    for title in ("one ü", "two ü"):
        call = invoke(gateway_event(api, "POST", collection, token, {"title": title, "tags": ["ü x"]}))
        assert call.status == 201, call.response
        assert_headers_are_ascii(call)
        location = call.headers["location"]
        assert_valid_uri(location)
        assert location.startswith(f"{prefix}/api/")
        got = invoke(gateway_event(api, "GET", location, token))
        assert got.status == 200, got.response
        assert got.json() == call.json() and got.json()["user_id"] == sub
        created.append(call.json()["id"])
        locations.append(location)

    seen: list[int] = []
    url = f"{collection}?limit=1&tag=%C3%BC%20x&q=%C3%BC"
    for _ in range(len(created) + 1):
        page = invoke(gateway_event(api, "GET", url, token))
        assert page.status == 200, page.response
        assert_headers_are_ascii(page)
        seen += [task["id"] for task in page.json()]
        if "link" not in page.headers:
            break
        url = link_target(page.headers["link"])
        assert urlsplit(url).path == collection
    assert "link" not in page.headers
    assert seen == created
    for location in locations:
        assert invoke(gateway_event(api, "DELETE", location, token)).status == 204


def test_a_rest_api_stage_prefix_is_kept_in_location_and_link(invoke: Invoke) -> None:
    token = make_token("stage-user")
    for _ in range(2):
        call = invoke(gateway_event(REST, "POST", "/dev/api/stage-user/tasks", token, {"title": "t"}))
        assert call.status == 201
        assert call.headers["location"] == f"/dev/api/stage-user/tasks/{call.json()['id']}"
    page = invoke(gateway_event(REST, "GET", "/dev/api/stage-user/tasks?limit=1", token))
    link = link_target(page.headers["link"])
    assert link.startswith(
        "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev/api/stage-user/tasks?limit=1&cursor="
    )

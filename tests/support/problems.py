"""The one check for error responses: an exact RFC 9457 problem that leaks nothing.

Works on a TestClient/httpx response and on a Lambda invocation (tests/functions/lambda_events.py).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

PROBLEM = "application/problem+json"
VALIDATION_ERROR = "urn:tasks-api:problem:validation-error"
LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "psycopg", "sqlalchemy", 'File "')


def _parts(response: Any) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and body text of either kind of response."""
    if hasattr(response, "status_code"):  # httpx / TestClient
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.text
    return response.status, {k.lower(): v for k, v in response.headers.items()}, response.text


def assert_problem(
    response: Any,
    status: int,
    detail: str | None = None,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every key of the problem is checked: the status (of the response and in the body), the
    content type, `type` (about:blank unless a slug is expected; the validation type for 422),
    `title` (the status phrase for about:blank), `detail` (non-empty, or exactly as given),
    `request_id` (the X-Request-ID header), `errors` (present exactly for 422). Returns the body."""
    actual_status, headers, text = _parts(response)
    assert actual_status == status, (actual_status, text[:500])
    assert headers.get("content-type") == PROBLEM, headers
    body: dict[str, Any] = json.loads(text)
    assert set(body) == {"type", "title", "status", "detail", "request_id"} | ({"errors"} if status == 422 else set())
    assert body["status"] == status
    if type_ is None:
        type_ = VALIDATION_ERROR if status == 422 else body["type"]
        assert type_ == "about:blank" or type_.startswith("urn:tasks-api:problem:"), body
    assert body["type"] == type_, body
    if title is None and type_ == "about:blank":
        title = HTTPStatus(status).phrase
    if title is not None:
        assert body["title"] == title, body
    assert isinstance(body["title"], str) and body["title"], body
    if detail is not None:
        assert body["detail"] == detail, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["request_id"], str) and body["request_id"], body
    assert body["request_id"] == headers.get("x-request-id"), (body, headers)
    if status == 422:
        assert body["errors"] and all(set(e) == {"loc", "msg", "type"} for e in body["errors"]), body
        if errors is not None:
            assert body["errors"] == errors, body
    for leak in LEAKS:
        assert leak not in text, leak
    return body


def assert_4xx_problem(response: Any) -> dict[str, Any]:
    """For hostile input whose exact status is not the point: a client error, as a problem."""
    status, _, text = _parts(response)
    assert 400 <= status < 500, (status, text[:300])
    return assert_problem(response, status)

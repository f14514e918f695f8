"""Checks shared by the error tests: every error is an exact RFC 9457 problem and leaks nothing."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"
LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "psycopg", "sqlalchemy", 'File "')


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    expected_keys = {"type", "title", "status", "detail", "request_id"} | ({"errors"} if status == 422 else set())
    assert set(body) == expected_keys
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    if status == 422:
        assert body["type"] == "urn:tasks-api:problem:validation-error"
        assert body["errors"] and all(set(e) == {"loc", "msg", "type"} for e in body["errors"])
    for leak in LEAKS:
        assert leak not in response.text
    return body

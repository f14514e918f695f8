"""Issue 10: HEAD is answered wherever GET is (RFC 9110 9.3.2): the same status and headers, no body."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.tokens import auth

IGNORED = {"x-request-id", "date"}


def _get_paths(app: Any) -> list[str]:
    return sorted(path for path, operations in app.openapi()["paths"].items() if "get" in operations)


def test_the_routes_below_include_health_and_every_task_read(app: Any) -> None:
    expected = {"/health", "/health/ready", "/api/{user_id}/tasks", "/api/{user_id}/tasks/{task_id}"}
    assert expected | {"/api/{user_id}/tasks/stats"} <= set(_get_paths(app))


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "1"  # any other path parameter (a list id, ...): GET and HEAD answer alike either way


@pytest.mark.parametrize("extra", ["/openapi.json", "/docs"])
def test_head_on_the_documents(client: Any, extra: str) -> None:
    get, head = client.get(extra), client.head(extra)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_answers_like_get_on_every_get_route(client: Any, app: Any) -> None:
    user = f"head-{uuid.uuid4().hex[:12]}"
    headers = auth(user)
    for _ in range(2):
        created = client.post(f"/api/{user}/tasks", json={"title": "t"}, headers=headers)
        assert created.status_code == 201
    values = _Values(user_id=user, task_id=str(created.json()["id"]))
    for template in _get_paths(app):
        path = template.format_map(values)
        url = path + ("?limit=1" if template.endswith("/tasks") else "")
        get, head = client.get(url, headers=headers), client.head(url, headers=headers)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
        assert head.content == b"", url
        assert {k: v for k, v in head.headers.items() if k not in IGNORED} == {
            k: v for k, v in get.headers.items() if k not in IGNORED
        }, url


def test_head_is_authorized_like_get(client: Any) -> None:
    user = f"head-{uuid.uuid4().hex[:12]}"
    assert client.head(f"/api/{user}/tasks").status_code == 401
    assert client.head(f"/api/{user}/tasks", headers=auth("someone-else")).status_code == 403


def test_head_honours_if_none_match(client: Any) -> None:
    user = f"head-{uuid.uuid4().hex[:12]}"
    headers = auth(user)
    task = client.post(f"/api/{user}/tasks", json={"title": "t"}, headers=headers)
    url = task.headers["location"]
    head = client.head(url, headers={**headers, "If-None-Match": task.headers["etag"]})
    assert head.status_code == 304
    assert head.headers["etag"] == task.headers["etag"]


def test_head_where_there_is_no_get_is_405_and_allow_lists_head_with_get(client: Any) -> None:
    user = f"head-{uuid.uuid4().hex[:12]}"
    response = client.head(f"/api/{user}/tasks/1/complete", headers=auth(user))
    assert response.status_code == 405
    assert response.headers["allow"] == "PATCH"
    health = client.delete("/health")
    assert health.status_code == 405
    assert health.headers["allow"] == "GET, HEAD"

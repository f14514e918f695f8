"""How the service answers requests it cannot take: bad bodies, sizes, media types, ids, routes, methods."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.problems import assert_problem


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"title": "t",}', b'{"title": "t"', b"", b"[]", b'[{"title": "t"}]', b'"t"', b"1", b"null"],
)
def test_a_body_that_is_not_a_json_object_is_422(alice, content):
    response = alice.request("POST", content=content, headers={"Content-Type": "application/json"})
    assert_problem(response, 422)
    assert alice.request("GET").json() == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[" * 30000, id="deeply-nested-array"),
        pytest.param(b'{"title": "t", "tags": ' + b"[" * 20000 + b"]" * 20000 + b"}", id="deeply-nested-field"),
        pytest.param('{"title": "\u00e9t\u00e9"}'.encode("latin-1"), id="not-utf-8"),
        pytest.param(b"\xff\xfe{\x00}\x00", id="utf-16-bom"),
    ],
)
def test_a_body_that_cannot_be_decoded_is_422_like_other_malformed_json(alice, content):
    """400 is reserved for bad cursors; a body the server cannot parse is a validation failure."""
    response = alice.request("POST", content=content, headers={"Content-Type": "application/json"})
    assert_problem(response, 422)
    assert alice.request("GET").json() == []


def test_a_body_of_exactly_64_kib_is_accepted(alice):
    prefix, suffix = b'{"title": "t"', b"}"
    content = prefix + b" " * (64 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(content) == 65536
    response = alice.request("POST", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 201


@pytest.mark.parametrize("token", ["valid", "none", "bad"])
def test_a_body_over_64_kib_is_413_whatever_the_token(alice, token):
    content = b'{"title": "t"' + b" " * (64 * 1024 - 13) + b"}"
    assert len(content) == 65537
    headers = {
        "Content-Type": "application/json",
        **{"valid": alice.headers, "none": {}, "bad": {"Authorization": "Bearer x"}}[token],
    }
    assert_problem(alice.client.post(alice.base, content=content, headers=headers), 413)
    assert alice.request("GET").json() == []


def test_a_streamed_body_over_64_kib_without_content_length_is_413(alice):
    def chunks() -> Any:
        yield b'{"title": "t", "description": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = alice.request("POST", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(response, 413)
    assert alice.request("GET").json() == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
def test_a_body_that_is_not_json_is_415(alice, content_type):
    task = alice.create(title="t")
    headers = {"Content-Type": content_type} if content_type else {}
    for method, path in [
        ("POST", ""),
        ("PUT", f"/{task['id']}"),
        ("PATCH", f"/{task['id']}"),
        ("PATCH", f"/{task['id']}/complete"),
    ]:
        response = alice.request(method, path, content=b'{"title": "x"}', headers=headers)
        assert_problem(response, 415)
    assert alice.request("GET").json() == [task]


def test_json_with_a_charset_parameter_is_accepted(alice):
    response = alice.request(
        "POST", content=b'{"title": "t"}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("task_id", ["abc", "1.5", "1e3", "%20"])
def test_a_task_id_that_is_not_an_integer_names_no_task_and_is_404(alice, task_id):
    assert_problem(alice.request("GET", f"/{task_id}"), 404)


@pytest.mark.parametrize("task_id", ["0", "-1", str(2**63 - 1), str(2**63), "9" * 40])
def test_a_task_id_that_cannot_exist_is_404(alice, task_id):
    for method, path, payload in [
        ("GET", "", None),
        ("PUT", "", {"title": "t"}),
        ("PATCH", "", {}),
        ("PATCH", "/complete", None),
        ("DELETE", "", None),
    ]:
        assert_problem(alice.request(method, f"/{task_id}{path}", json=payload), 404)


@pytest.mark.parametrize("path", ["/nope", "/api", "/health/nope", "/tasks"])
def test_an_unknown_route_is_404_problem_json(client, path):
    body = assert_problem(client.get(path), 404)
    assert body["type"] == "about:blank"


def test_an_unknown_route_under_the_callers_path_is_404_problem_json(alice):
    assert_problem(alice.client.get(f"/api/{alice.user_id}/projects", headers=alice.headers), 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/health", {"GET"}),
        ("DELETE", "/health/ready", {"GET"}),
        ("DELETE", "", {"GET", "POST"}),
        ("PUT", "", {"GET", "POST"}),
        ("POST", "/1", {"GET", "PUT", "PATCH", "DELETE"}),
        ("GET", "/1/complete", {"PATCH"}),
        ("POST", "/stats", {"GET"}),
    ],
)
def test_a_wrong_method_is_405_with_allow(alice, method, path, allow):
    url = path if path.startswith("/health") else alice.base + path
    response = alice.client.request(method, url, headers=alice.headers)
    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allow

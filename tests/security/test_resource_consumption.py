"""OWASP API4 (unrestricted resource consumption): body size, page size, list sizes, nesting."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.problems import assert_4xx_problem, assert_problem

LIMIT = 64 * 1024


def _padded_body(size: int) -> bytes:
    head = b'{"title":"x","description":"'
    tail = b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_body_over_64_kib_is_413_even_before_authentication(alice, client, method) -> None:
    path = "" if method == "POST" else "/1"
    body = _padded_body(LIMIT + 1)
    assert_problem(alice.request(method, path, content=body, headers={"Content-Type": "application/json"}), 413)
    assert_problem(
        client.request(method, alice.base + path, content=body, headers={"Content-Type": "application/json"}), 413
    )
    assert_problem(
        client.request(
            method, alice.base + path, content=body, headers={"Content-Type": "text/plain", "Authorization": "Bearer x"}
        ),
        413,
    )
    assert alice.request("GET").json() == []


def test_body_of_exactly_64_kib_is_not_413(alice) -> None:
    response = alice.request("POST", content=_padded_body(LIMIT), headers={"Content-Type": "application/json"})
    assert response.status_code == 422  # too long a description, but the size itself is allowed


def _chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    body = _padded_body(total)
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_chunked_body_without_content_length_is_counted(alice) -> None:
    response = alice.request("POST", content=_chunks(LIMIT * 4), headers={"Content-Type": "application/json"})
    assert_problem(response, 413)
    assert alice.request("GET").json() == []
    small = alice.request(
        "POST", content=(part for part in [b'{"title":', b'"chunked"}']), headers={"Content-Type": "application/json"}
    )
    assert small.status_code == 201, small.text


@pytest.mark.parametrize("length", ["abc", "-1", "1e9", " 10", "99999999999999999999999"])
def test_bogus_content_length_is_4xx(alice, length) -> None:
    response = alice.request(
        "POST", content=b'{"title":"x"}', headers={"Content-Type": "application/json", "Content-Length": length}
    )
    assert_4xx_problem(response)


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000000", "99999999999999999999", "1.5", "abc", "", "1e3", "NaN"])
def test_absurd_page_sizes_are_422(alice, limit) -> None:
    assert_problem(alice.request("GET", params={"limit": limit}), 422)


def test_page_size_bounds_are_accepted(alice) -> None:
    assert alice.request("GET", params={"limit": "1"}).status_code == 200
    assert alice.request("GET", params={"limit": "200"}).status_code == 200


@pytest.mark.parametrize("count", [21, 200, 5000])
def test_huge_tag_lists_in_bodies_are_422(alice, count) -> None:
    body = {"title": "x", "tags": [f"t{i}" for i in range(count)]}
    assert len(json.dumps(body)) < LIMIT
    assert_problem(alice.request("POST", json=body), 422)
    task = alice.create(title="y")
    assert_problem(alice.request("PATCH", f"/{task['id']}", json={"tags": body["tags"]}), 422)
    assert_problem(alice.request("PUT", f"/{task['id']}", json=body), 422)


def test_duplicate_tags_collapse_within_the_limit(alice) -> None:
    task = alice.create(title="x", tags=["Dup", " dup ", "DUP"] * 30)
    assert task["tags"] == ["dup"]


@pytest.mark.parametrize("count", [21, 500])
def test_huge_tag_filters_are_422(alice, count) -> None:
    assert_problem(alice.request("GET", params=[("tag", f"t{i}") for i in range(count)]), 422)


def test_oversized_strings_are_422(alice) -> None:
    for body in ({"title": "x" * 256}, {"title": "x", "description": "d" * 1001}, {"title": "x", "tags": ["t" * 51]}):
        assert_problem(alice.request("POST", json=body), 422)
    assert_problem(alice.request("GET", params={"q": "q" * 256}), 422)
    assert_problem(alice.request("GET", params={"cursor": "c" * 1025}), 422)
    assert_problem(alice.request("GET", params={"tag": "t" * 201}), 422)
    assert_problem(alice.request("POST", json={"title": "x"}, headers={"Idempotency-Key": "k" * 256}), 422)
    assert alice.request("GET").json() == []


def test_many_repeated_query_values_do_not_fail(alice) -> None:
    response = alice.request("GET", params=[("priority", "low")] * 2000 + [("status", "all")] * 500)
    assert response.status_code == 200, response.text


def test_deeply_nested_json_is_4xx(alice) -> None:
    depth = 30_000
    for body in (b"[" * depth + b"]" * depth, b'{"title":' + b'{"a":' * 6000 + b"1" + b"}" * 6001):
        assert len(body) <= LIMIT
        assert_4xx_problem(alice.request("POST", content=body, headers={"Content-Type": "application/json"}))


def test_out_of_range_task_ids_are_404(alice) -> None:
    for task_id in ("0", "-1", str(2**63), "9" * 40, "1e3", "0x10"):
        assert_problem(alice.request("GET", f"/{task_id}"), 404)

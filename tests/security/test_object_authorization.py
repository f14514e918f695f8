"""OWASP API1 (broken object-level authorization) and API5 (function level): every route, cross-user.

Bob holds a valid token. He can never reach Alice's path (403), and on his own path Alice's task
ids behave exactly like ids that do not exist (404, never 403), with or without Alice's ETag.
Alice's task is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.problems import assert_problem
from tests.support.tokens import auth

TASK_ROUTES = [
    ("GET", "", None),
    ("PUT", "", {"title": "pwned"}),
    ("PATCH", "", {"title": "pwned"}),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
    ("DELETE", "", None),
]


def _path_routes(task_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("GET", "", None),
        ("GET", "/stats", None),
        ("POST", "", {"title": "planted"}),
        *[(m, f"/{task_id}{suffix}", body) for m, suffix, body in TASK_ROUTES],
    ]


def test_foreign_path_is_403_on_every_route(alice, bob) -> None:
    task = alice.create(title="alice's secret")
    for method, suffix, body in _path_routes(task["id"]):
        response = bob.client.request(method, alice.base + suffix, headers=bob.headers, json=body)
        problem = assert_problem(response, 403)
        assert "alice's secret" not in response.text, (method, suffix)
        assert problem["type"] == "about:blank"
    assert alice.request("GET", f"/{task['id']}").json() == task
    assert alice.request("GET").json() == [task]


@pytest.mark.parametrize(("method", "suffix", "body"), TASK_ROUTES)
def test_foreign_task_id_on_own_path_is_indistinguishable_from_a_missing_one(alice, bob, method, suffix, body) -> None:
    task = alice.create(title="alice's secret", tags=["private"])
    etag = alice.request("GET", f"/{task['id']}").headers["etag"]
    missing_id = task["id"] + 10_000_000
    for headers in ({}, {"If-Match": etag}, {"If-Match": "*"}, {"If-None-Match": etag}):
        foreign = bob.request(method, f"/{task['id']}{suffix}", json=body, headers=headers)
        missing = bob.request(method, f"/{missing_id}{suffix}", json=body, headers=headers)
        foreign_body = assert_problem(foreign, 404)
        missing_body = assert_problem(missing, 404)
        assert "etag" not in foreign.headers
        assert foreign_body["detail"].replace(str(task["id"]), "N") == missing_body["detail"].replace(
            str(missing_id), "N"
        )
        assert foreign_body["type"] == missing_body["type"]
    after = alice.request("GET", f"/{task['id']}")
    assert after.json() == task
    assert after.headers["etag"] == etag


def test_foreign_tasks_never_appear_in_lists_stats_or_filters(alice, bob) -> None:
    alice.create(title="needle-alice", tags=["shared-tag"], priority="high", completed=True)
    bob_task = bob.create(title="bob's own")
    for query in ("", "?q=needle", "?tag=shared-tag", "?priority=high", "?status=completed", "?sort=-title&limit=1"):
        listed = bob.request("GET", query)
        assert listed.status_code == 200
        assert all(item["user_id"] == bob.user_id for item in listed.json()), query
        assert "needle-alice" not in listed.text
    assert bob.request("GET").json() == [bob_task]
    assert bob.request("GET", "/stats").json() == {"total": 1, "pending": 1, "completed": 0, "overdue": 0}


def test_cursor_from_another_user_is_rejected(alice, bob) -> None:
    for i in range(3):
        alice.create(title=f"t{i}")
        bob.create(title=f"b{i}")
    link = alice.request("GET", "?limit=1").headers["link"]
    cursor = link.split("cursor=", 1)[1].split(">", 1)[0].split("&", 1)[0]
    assert_problem(bob.request("GET", f"?limit=1&cursor={cursor}"), 400)


def test_idempotency_keys_are_scoped_per_user(alice, bob) -> None:
    key = {"Idempotency-Key": "shared-key-1"}
    first = alice.request("POST", json={"title": "alice via key"}, headers=key)
    assert first.status_code == 201
    # Same key, same body, other user: a new task of Bob's, never Alice's replayed response.
    second = bob.request("POST", json={"title": "alice via key"}, headers=key)
    assert second.status_code == 201
    assert second.json()["user_id"] == bob.user_id
    assert second.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert len(alice.request("GET").json()) == 1


@pytest.mark.parametrize(
    ("path_user", "status"),
    [
        ("{u}/", 404),  # trailing slash variant of the path segment: no such route
        ("{U}", 403),  # case variant
        ("%20{u}", 403),
        ("{u}%20", 403),
        ("{u}%00", 403),
        ("{u}%2F..%2F{v}", 404),  # an encoded slash is no path separator: no such route
        ("..%2F{v}", 403),
        ("{v}", 403),
    ],
)
def test_path_user_variants_do_not_bypass_the_subject_check(alice, bob, path_user, status) -> None:
    alice.create(title="alice's secret")
    value = path_user.format(u=bob.user_id, U=bob.user_id.upper(), v=alice.user_id)
    response = bob.client.get(f"/api/{value}/tasks", headers=bob.headers)
    assert_problem(response, status)
    assert "alice's secret" not in response.text


def test_token_for_a_path_user_cannot_write_into_another_users_slice(alice, client) -> None:
    """A token for a user called like an SQL wildcard or another user's prefix reaches only itself."""
    alice.create(title="alice's secret")
    for sub in ("%", "_", alice.user_id[:-1] + "%", alice.user_id.upper(), alice.user_id + " "):
        response = client.get(f"/api/{sub}/tasks", headers=auth(sub))
        if response.status_code == 200:
            assert response.json() == [], sub
        assert "alice's secret" not in response.text

"""Who may touch what: 401 without a valid token, 403 for another user's path, 404 for another user's task."""

from __future__ import annotations

import pytest

from tests.support.problems import assert_problem
from tests.support.tokens import make_token

# (method, path under /tasks with {id} for a task id, a valid body or None)
ROUTES = [
    ("GET", "", None),
    ("POST", "", {"title": "x"}),
    ("GET", "/stats", None),
    ("GET", "/{id}", None),
    ("PUT", "/{id}", {"title": "x"}),
    ("PATCH", "/{id}", {"title": "x"}),
    ("PATCH", "/{id}/complete", None),
    ("DELETE", "/{id}", None),
]
TASK_ROUTES = [r for r in ROUTES if "{id}" in r[1]]
BAD_TOKENS = [
    pytest.param(None, id="no-header"),
    pytest.param("Bearer", id="bearer-without-token"),
    pytest.param("Bearer not-a-jwt", id="garbage"),
    pytest.param(
        "Bearer " + make_token("someone", secret="a-different-secret-that-is-long-enough!!"), id="wrong-signature"
    ),
    pytest.param("Bearer " + make_token("someone", lifetime=-3600), id="expired"),
]


def path_of(user_id: str, suffix: str, task_id: int = 1) -> str:
    return f"/api/{user_id}/tasks" + suffix.replace("{id}", str(task_id))


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
@pytest.mark.parametrize("authorization", BAD_TOKENS)
def test_every_task_route_without_a_valid_token_is_401(client, bob, method, suffix, payload, authorization):
    task = bob.create(title="bob's")
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, path_of(bob.user_id, suffix, task["id"]), json=payload, headers=headers)
    body = assert_problem(response, 401)
    assert body["title"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert bob.request("GET", f"/{task['id']}").json() == task


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_every_task_route_on_another_users_path_is_403(alice, bob, method, suffix, payload):
    task = bob.create(title="bob's")
    response = alice.client.request(
        method, path_of(bob.user_id, suffix, task["id"]), json=payload, headers=alice.headers
    )
    body = assert_problem(response, 403)
    assert body["title"] == "Forbidden"
    assert "www-authenticate" not in response.headers
    assert bob.request("GET", f"/{task['id']}").json() == task
    assert bob.request("GET").json() == [task]


@pytest.mark.parametrize(("method", "suffix", "payload"), TASK_ROUTES)
def test_another_users_task_is_404_and_stays_unchanged(alice, bob, method, suffix, payload):
    task = bob.create(title="bob's", tags=["private"])
    before = bob.request("GET", f"/{task['id']}")
    response = alice.request(method, suffix.replace("{id}", str(task["id"])), json=payload)
    assert_problem(response, 404)
    after = bob.request("GET", f"/{task['id']}")
    assert after.status_code == 200
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize(("method", "suffix", "payload"), [r for r in TASK_ROUTES if r[0] != "GET"])
def test_if_match_on_another_users_task_is_404_not_412(alice, bob, method, suffix, payload):
    created = bob.request("POST", json={"title": "bob's"})
    task = created.json()
    for etag in (created.headers["etag"], '"999.1"', "*"):
        response = alice.request(
            method, suffix.replace("{id}", str(task["id"])), json=payload, headers={"If-Match": etag}
        )
        assert_problem(response, 404)
    assert bob.request("GET", f"/{task['id']}").json() == task


@pytest.mark.parametrize(("method", "suffix", "payload"), TASK_ROUTES)
def test_missing_task_is_404_like_another_users(alice, method, suffix, payload):
    response = alice.request(method, suffix.replace("{id}", "987654321"), json=payload)
    body = assert_problem(response, 404)
    assert body["type"] == "urn:tasks-api:problem:not-found"


def test_list_and_stats_show_only_the_callers_tasks(alice, bob):
    mine = alice.create(title="mine")
    bob.create(title="theirs", completed=True)
    bob.create(title="theirs too", due_at="2001-01-01T00:00:00Z")
    assert alice.request("GET").json() == [mine]
    assert alice.request("GET", "/stats").json() == {"total": 1, "pending": 1, "completed": 0, "overdue": 0}


def test_created_task_belongs_to_the_token_subject_whatever_the_body_says(alice, bob):
    response = alice.request("POST", json={"title": "t", "user_id": bob.user_id})
    assert response.status_code == 201
    assert response.json()["user_id"] == alice.user_id
    assert bob.request("GET").json() == []


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_bad_token_with_invalid_body_is_401_not_422(client, bob, method, suffix, payload):
    task = bob.create(title="bob's")
    path = path_of(bob.user_id, suffix, task["id"])
    headers = {"Authorization": "Bearer not-a-jwt", "Content-Type": "application/json"}
    for content in (b'{"title": ""}', b"{not json", b'{"unknown": 1}', b"[]"):
        response = client.request(method, path, content=content, headers=headers)
        assert_problem(response, 401)


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_bad_token_with_invalid_path_is_401_not_422(client, new_user, method, suffix, payload):
    response = client.request(method, path_of(new_user(), suffix).replace("/1", "/not-an-int"), json=payload)
    assert_problem(response, 401)


def test_bad_token_with_a_non_json_body_is_401_not_415(client, bob):
    response = client.post(
        f"/api/{bob.user_id}/tasks",
        content=b"title=x",
        headers={"Content-Type": "text/plain", "Authorization": "Bearer x"},
    )
    assert_problem(response, 401)


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_bad_token_on_another_users_path_is_401_not_403(client, alice, bob, method, suffix, payload):
    task = bob.create(title="bob's")
    expired = {"Authorization": "Bearer " + make_token(alice.user_id, lifetime=-3600)}
    response = client.request(method, path_of(bob.user_id, suffix, task["id"]), json=payload, headers=expired)
    assert_problem(response, 401)


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_another_users_path_with_invalid_body_is_403_not_422(alice, bob, method, suffix, payload):
    headers = {**alice.headers, "Content-Type": "application/json"}
    response = alice.client.request(method, path_of(bob.user_id, suffix), content=b'{"title": ""', headers=headers)
    assert_problem(response, 403)


def test_another_users_path_with_an_unknown_sub_route_is_403(alice, bob):
    response = alice.client.get(f"/api/{bob.user_id}/whatever", headers=alice.headers)
    assert_problem(response, 403)


def test_an_unknown_sub_route_without_token_is_401(client, bob):
    response = client.get(f"/api/{bob.user_id}/whatever")
    assert_problem(response, 401)

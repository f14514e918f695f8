"""OWASP API3 (broken object property level authorization): mass assignment and data exposure."""

from __future__ import annotations

import pytest

from tests.security.conftest import TASK_FIELDS
from tests.support.problems import assert_problem

SERVER_MANAGED = {
    "id": 987654321,
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "completed_at": "2000-01-01T00:00:00Z",
}


def _assert_server_values(task: dict, owner: str) -> None:
    assert task["user_id"] == owner
    assert task["id"] != SERVER_MANAGED["id"]
    for field in ("created_at", "updated_at"):
        assert not task[field].startswith("2000-"), field
    assert task["completed_at"] is None or not task["completed_at"].startswith("2000-")


def test_create_ignores_server_managed_fields_and_creates_under_the_caller(alice, bob) -> None:
    response = alice.request("POST", json={"title": "mine", "user_id": bob.user_id, **SERVER_MANAGED})
    assert response.status_code == 201
    task = response.json()
    _assert_server_values(task, alice.user_id)
    assert task["completed_at"] is None  # completed defaults to false: completed_at is not applied
    assert response.headers["location"] == f"/api/{alice.user_id}/tasks/{task['id']}"
    assert bob.request("GET").json() == []
    assert bob.request("GET", f"/{task['id']}").status_code == 404
    assert alice.request("GET", f"/{task['id']}").json() == task
    assert alice.request("GET", f"/{SERVER_MANAGED['id']}").status_code == 404


def test_completed_at_is_set_by_the_server_not_the_client(alice) -> None:
    task = alice.request(
        "POST", json={"title": "done", "completed": True, "completed_at": "1999-01-01T00:00:00Z"}
    ).json()
    assert task["completed"] is True
    assert task["completed_at"] is not None and not task["completed_at"].startswith("1999")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_updates_never_move_a_task_to_another_user_or_rewrite_history(alice, bob, method) -> None:
    original = alice.create(title="original")
    response = alice.request(
        method, f"/{original['id']}", json={"title": "edited", "user_id": bob.user_id, **SERVER_MANAGED}
    )
    assert response.status_code == 200, response.text
    task = response.json()
    _assert_server_values(task, alice.user_id)
    assert task["id"] == original["id"]
    assert task["created_at"] == original["created_at"]
    assert bob.request("GET").json() == []
    assert bob.request("GET", f"/{original['id']}").status_code == 404
    assert alice.request("GET", f"/{original['id']}").json()["title"] == "edited"


def test_complete_body_cannot_carry_other_fields(alice, bob) -> None:
    task = alice.create(title="x")
    # Read-only fields are ignored; anything else editable is not the complete route's business.
    ok = alice.request(
        "PATCH",
        f"/{task['id']}/complete",
        json={"completed": True, "user_id": bob.user_id, "completed_at": "2000-01-01T00:00:00Z"},
    )
    assert ok.status_code == 200
    _assert_server_values(ok.json(), alice.user_id)
    assert_problem(alice.request("PATCH", f"/{task['id']}/complete", json={"completed": False, "title": "sneaky"}), 422)
    assert alice.request("GET", f"/{task['id']}").json()["title"] == "x"


@pytest.mark.parametrize(
    "field", ["version", "owner", "owner_id", "userId", "is_admin", "deleted", "__proto__", "ID", "User_Id"]
)
def test_unknown_and_internal_fields_are_422_not_silently_applied(alice, field) -> None:
    task = alice.create(title="x")
    for method, path in (("POST", ""), ("PUT", f"/{task['id']}"), ("PATCH", f"/{task['id']}")):
        body = assert_problem(alice.request(method, path, json={"title": "y", field: 7}), 422)
        assert any(field in [str(p) for p in issue["loc"]] for issue in body["errors"]), body
    after = alice.request("GET", f"/{task['id']}")
    assert after.json() == task


def test_responses_expose_exactly_the_documented_task_fields(alice) -> None:
    task = alice.create(title="x", description="d", tags=["a"])
    single = alice.request("GET", f"/{task['id']}")
    listed = alice.request("GET")
    assert set(task) == TASK_FIELDS
    assert set(single.json()) == TASK_FIELDS
    assert all(set(item) == TASK_FIELDS for item in listed.json())
    assert set(alice.request("GET", "/stats").json()) == {"total", "pending", "completed", "overdue"}
    # The internal write counter shows up only inside the opaque ETag, never as a field.
    assert "version" not in single.text


def test_error_bodies_leak_no_sql_stack_or_input(alice) -> None:
    secret_looking = "SELECT password FROM users; -- " + "Z" * 40
    responses = [
        alice.request("POST", json={"title": secret_looking, "priority": "urgent"}),
        alice.request("POST", json={"title": "x", "due_at": secret_looking}),
        alice.request("GET", params={"cursor": secret_looking}),
        alice.request("GET", params={"sort": secret_looking}),
        alice.request("GET", "/" + "9" * 40),
        alice.request("PATCH", "/1", content=secret_looking.encode(), headers={"Content-Type": "application/json"}),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        text = response.text
        assert "Z" * 40 not in text
        for marker in ("Traceback", "psycopg2", "sqlalchemy", "SELECT ", 'File "', "line "):
            assert marker not in text, (marker, text)

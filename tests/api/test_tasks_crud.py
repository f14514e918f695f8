"""Every task route's happy path, with exact bodies, plus health and the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.models.task_input import READ_ONLY_FIELDS, TaskFields

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# What a create with only a title stores: every editable field at the model's default.
DEFAULTS = {k: v for k, v in TaskFields(title="-").model_dump(mode="json").items() if k != "title"}
FULL = {
    "title": "write report",
    "description": "quarterly\nnumbers",
    "completed": True,
    "priority": "high",
    "due_at": "2031-05-04T10:00:00.000000Z",
    "tags": ["work", "q2"],
}


def server_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The server-assigned fields, checked for shape and then set aside for an exact comparison."""
    assert isinstance(body["id"], int) and body["id"] > 0
    assert TIMESTAMP.match(body["created_at"]), body["created_at"]
    assert TIMESTAMP.match(body["updated_at"]), body["updated_at"]
    if body["completed_at"] is not None:
        assert TIMESTAMP.match(body["completed_at"]), body["completed_at"]
    return {k: body[k] for k in READ_ONLY_FIELDS - {"user_id"}}


def etag_pattern(task_id: int) -> re.Pattern[str]:
    return re.compile(rf'^"{task_id}\.\d+"$')


def test_post_creates_a_task_with_defaults_location_and_etag(alice):
    response = alice.request("POST", json={"title": "buy milk"})
    assert response.status_code == 201
    body = response.json()
    server = server_fields(body)
    assert body == {**DEFAULTS, **server, "user_id": alice.user_id, "title": "buy milk"}
    assert body["created_at"] == body["updated_at"]
    assert response.headers["location"] == f"/api/{alice.user_id}/tasks/{body['id']}"
    assert etag_pattern(body["id"]).match(response.headers["etag"])
    assert response.headers["content-type"] == "application/json"


def test_post_with_every_field_stores_them_all(alice):
    response = alice.request("POST", json=FULL)
    assert response.status_code == 201
    body = response.json()
    server = server_fields(body)
    assert server["completed_at"] is not None
    assert body == {**DEFAULTS, **FULL, **server, "user_id": alice.user_id}


def test_get_one_returns_the_same_task_and_etag_as_post(alice):
    created = alice.request("POST", json=FULL)
    response = alice.request("GET", f"/{created.json()['id']}")
    assert response.status_code == 200
    assert response.json() == created.json()
    assert response.headers["etag"] == created.headers["etag"]


def test_get_list_returns_the_callers_tasks_oldest_first(alice):
    first = alice.create(title="one")
    second = alice.create(title="two", priority="low")
    response = alice.request("GET")
    assert response.status_code == 200
    assert response.json() == [first, second]
    assert "link" not in response.headers


def test_get_list_of_a_new_user_is_an_empty_array(alice):
    response = alice.request("GET")
    assert response.status_code == 200
    assert response.json() == []


def test_put_replaces_every_field(alice):
    task = alice.create(title="old", tags=["x"])
    response = alice.request("PUT", f"/{task['id']}", json=FULL)
    assert response.status_code == 200
    body = response.json()
    assert body == {**DEFAULTS, **FULL, **server_fields(body), "user_id": alice.user_id}
    assert body["id"] == task["id"] and body["created_at"] == task["created_at"]
    assert body["completed_at"] is not None
    assert etag_pattern(task["id"]).match(response.headers["etag"])


def test_put_resets_omitted_optional_fields_to_defaults(alice):
    task = alice.create(**FULL)
    response = alice.request("PUT", f"/{task['id']}", json={"title": "bare"})
    assert response.status_code == 200
    body = response.json()
    assert body == {**DEFAULTS, **server_fields(body), "user_id": alice.user_id, "title": "bare"}
    assert body["completed_at"] is None


def test_put_without_title_is_422_and_changes_nothing(alice):
    task = alice.create(title="keep")
    response = alice.request("PUT", f"/{task['id']}", json={"description": "d"})
    assert response.status_code == 422
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_patch_changes_only_the_fields_sent(alice):
    task = alice.create(**FULL)
    response = alice.request("PATCH", f"/{task['id']}", json={"priority": "low"})
    assert response.status_code == 200
    body = response.json()
    assert body == {**task, "priority": "low", "updated_at": body["updated_at"]}
    assert body["updated_at"] > task["updated_at"]


def test_patch_can_set_description_and_due_at_to_null(alice):
    task = alice.create(**FULL)
    response = alice.request("PATCH", f"/{task['id']}", json={"description": None, "due_at": None})
    assert response.status_code == 200
    body = response.json()
    assert body == {**task, "description": None, "due_at": None, "updated_at": body["updated_at"]}


def test_patch_with_empty_body_still_moves_updated_at_and_etag(alice):
    created = alice.request("POST", json={"title": "same"})
    task = created.json()
    response = alice.request("PATCH", f"/{task['id']}", json={})
    assert response.status_code == 200
    body = response.json()
    assert body == {**task, "updated_at": body["updated_at"]}
    assert body["updated_at"] > task["updated_at"]
    assert response.headers["etag"] != created.headers["etag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_writing_identical_values_moves_updated_at_and_etag(alice, method):
    created = alice.request("POST", json={"title": "same"})
    task = created.json()
    response = alice.request(method, f"/{task['id']}", json={"title": "same"})
    assert response.status_code == 200
    body = response.json()
    assert body == {**task, "updated_at": body["updated_at"]}
    assert body["updated_at"] > task["updated_at"]
    assert response.headers["etag"] != created.headers["etag"]


def test_completed_at_is_set_when_completed_turns_true(alice):
    task = alice.create(title="t")
    body = alice.request("PATCH", f"/{task['id']}", json={"completed": True}).json()
    assert body["completed"] is True
    assert TIMESTAMP.match(body["completed_at"])
    assert body["completed_at"] == body["updated_at"]


def test_completed_at_is_kept_when_completed_was_already_true(alice):
    task = alice.create(title="t", completed=True)
    for method, path, payload in [
        ("PATCH", "", {"completed": True}),
        ("PUT", "", {"title": "t", "completed": True}),
        ("PATCH", "/complete", {"completed": True}),
    ]:
        response = alice.request(method, f"/{task['id']}{path}", json=payload)
        assert response.status_code == 200
        assert response.json()["completed"] is True
        assert response.json()["completed_at"] == task["completed_at"]


def test_completed_at_is_cleared_when_completed_turns_false(alice):
    task = alice.create(title="t", completed=True)
    body = alice.request("PATCH", f"/{task['id']}", json={"completed": False}).json()
    assert (body["completed"], body["completed_at"]) == (False, None)


def test_complete_with_no_body_toggles_both_ways(alice):
    task = alice.create(title="t")
    on = alice.request("PATCH", f"/{task['id']}/complete")
    assert on.status_code == 200
    assert on.json() == {
        **task,
        "completed": True,
        "completed_at": on.json()["updated_at"],
        "last_completed_at": on.json()["updated_at"],
        "updated_at": on.json()["updated_at"],
    }
    off = alice.request("PATCH", f"/{task['id']}/complete")
    assert off.status_code == 200
    # Reopening keeps the record of the last completion.
    assert off.json() == {**task, "updated_at": off.json()["updated_at"], "last_completed_at": on.json()["updated_at"]}
    assert etag_pattern(task["id"]).match(off.headers["etag"])
    assert off.headers["etag"] != on.headers["etag"]


def test_complete_with_empty_object_toggles(alice):
    task = alice.create(title="t")
    first = alice.request("PATCH", f"/{task['id']}/complete", json={})
    second = alice.request("PATCH", f"/{task['id']}/complete", json={})
    assert (first.status_code, first.json()["completed"]) == (200, True)
    assert (second.status_code, second.json()["completed"], second.json()["completed_at"]) == (200, False, None)


@pytest.mark.parametrize("initial", [False, True])
@pytest.mark.parametrize("wanted", [False, True])
def test_complete_with_a_value_sets_it(alice, initial, wanted):
    task = alice.create(title="t", completed=initial)
    for _ in range(2):  # setting is idempotent, unlike toggling
        response = alice.request("PATCH", f"/{task['id']}/complete", json={"completed": wanted})
        assert response.status_code == 200
        assert response.json()["completed"] is wanted
        assert (response.json()["completed_at"] is None) is (not wanted)
    if initial and wanted:
        assert response.json()["completed_at"] == task["completed_at"]


def test_complete_setting_the_current_value_still_moves_updated_at_and_etag(alice):
    created = alice.request("POST", json={"title": "t"})
    response = alice.request("PATCH", f"/{created.json()['id']}/complete", json={"completed": False})
    assert response.status_code == 200
    assert response.json()["updated_at"] > created.json()["updated_at"]
    assert response.headers["etag"] != created.headers["etag"]


def test_every_write_moves_the_etag_to_a_new_value(alice):
    created = alice.request("POST", json={"title": "t"})
    task_id = created.json()["id"]
    seen = [created.headers["etag"]]
    for method, path, payload in [("PUT", "", {"title": "t"}), ("PATCH", "", {}), ("PATCH", "/complete", None)]:
        response = alice.request(method, f"/{task_id}{path}", json=payload)
        assert response.status_code == 200
        seen.append(response.headers["etag"])
        assert alice.request("GET", f"/{task_id}").headers["etag"] == response.headers["etag"]
    assert len(set(seen)) == 4


def test_delete_is_204_with_no_body_then_404(alice):
    task = alice.create(title="t")
    response = alice.request("DELETE", f"/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    for method in ["GET", "DELETE", "PUT", "PATCH"]:
        again = alice.request(method, f"/{task['id']}", json={"title": "x"} if method in ("PUT", "PATCH") else None)
        assert again.status_code == 404
        assert again.headers["content-type"] == "application/problem+json"
    assert alice.request("PATCH", f"/{task['id']}/complete").status_code == 404
    assert alice.request("GET").json() == []


def test_stats_counts_total_pending_completed_and_overdue(alice):
    alice.create(title="pending")
    alice.create(title="done", completed=True)
    alice.create(title="overdue", due_at="2001-01-01T00:00:00Z")
    alice.create(title="done late", completed=True, due_at="2001-01-01T00:00:00Z")
    alice.create(title="future", due_at="2099-01-01T00:00:00Z")
    response = alice.request("GET", "/stats")
    assert response.status_code == 200
    assert response.json() == {"total": 5, "pending": 3, "completed": 2, "overdue": 1}


def test_stats_of_a_new_user_are_zero(alice):
    response = alice.request("GET", "/stats")
    assert response.status_code == 200
    assert response.json() == {"total": 0, "pending": 0, "completed": 0, "overdue": 0}


def test_health_is_ok_without_a_token(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_ready_is_ok_when_the_database_answers(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_docs_page_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


ROUTES = {
    ("/api/{user_id}/tasks", "get"): {"200", "400", "401", "403", "422"},
    ("/api/{user_id}/tasks", "post"): {"201", "401", "403", "409", "413", "415", "422"},
    ("/api/{user_id}/tasks/{task_id}", "get"): {"200", "304", "401", "403", "404", "422"},
    ("/api/{user_id}/tasks/{task_id}", "put"): {"200", "401", "403", "404", "412", "413", "415", "422"},
    ("/api/{user_id}/tasks/{task_id}", "patch"): {"200", "401", "403", "404", "412", "413", "415", "422"},
    ("/api/{user_id}/tasks/{task_id}", "delete"): {"204", "401", "403", "404", "412", "422"},
    ("/api/{user_id}/tasks/{task_id}/complete", "patch"): {"200", "401", "403", "404", "412", "413", "415", "422"},
    ("/api/{user_id}/tasks/stats", "get"): {"200", "401", "403"},
    ("/api/{user_id}/tasks/{task_id}/move", "post"): {"200", "401", "403", "404", "412", "413", "415", "422"},
    ("/api/{user_id}/lists", "get"): {"200", "401", "403"},
    ("/api/{user_id}/lists", "post"): {"201", "401", "403", "409", "413", "415", "422"},
    ("/api/{user_id}/lists/{list_id}", "get"): {"200", "304", "401", "403", "404", "422"},
    ("/api/{user_id}/lists/{list_id}", "patch"): {"200", "401", "403", "404", "409", "412", "413", "415", "422"},
    ("/api/{user_id}/lists/{list_id}", "delete"): {"204", "401", "403", "404", "412", "422"},
    ("/api/{user_id}/lists/{list_id}/move", "post"): {"200", "401", "403", "404", "412", "413", "415", "422"},
    ("/api/{user_id}/tasks/batch", "post"): {"200", "401", "403", "404", "409", "412", "413", "415", "422"},
    ("/api/{user_id}/sync", "get"): {"200", "400", "401", "403", "410", "422"},
    ("/health", "get"): {"200"},
    ("/health/ready", "get"): {"200", "503"},
}


def test_openapi_is_version_3_1_and_lists_every_route(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert operations == set(ROUTES)


@pytest.mark.parametrize(("path", "method"), list(ROUTES))
def test_openapi_documents_each_routes_status_codes(client, path, method):
    documented = set(client.get("/openapi.json").json()["paths"][path][method]["responses"])
    assert ROUTES[(path, method)] <= documented, ROUTES[(path, method)] - documented


def test_openapi_documents_task_errors_only_as_problem_json(client):
    paths = client.get("/openapi.json").json()["paths"]
    offenders = {}
    for path, method in (k for k in ROUTES if k[0].startswith("/api/")):
        for status, response in paths[path][method]["responses"].items():
            if status[0] in "45" and list(response.get("content", {})) != ["application/problem+json"]:
                offenders[f"{method} {path} {status}"] = list(response.get("content", {}))
    assert offenders == {}

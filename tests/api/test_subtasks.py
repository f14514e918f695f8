"""Subtasks: one level deep, in their parent's list, moving with it, deleted with it."""

from __future__ import annotations

import pytest

from tests.api.order_helpers import create_list, list_request, move, ordered
from tests.support.problems import assert_problem


def test_a_subtask_takes_its_parents_list_when_none_is_sent(alice):
    home = create_list(alice, "Home")
    parent = alice.create(title="parent", list_id=home["id"])
    child = alice.create(title="child", parent_id=parent["id"])
    assert (child["parent_id"], child["list_id"]) == (parent["id"], home["id"])
    assert alice.create(title="c2", parent_id=parent["id"], list_id=home["id"])["list_id"] == home["id"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_subtask_in_another_list_than_its_parents_is_422(alice, method):
    home = create_list(alice, "Home")
    parent = alice.create(title="parent", list_id=home["id"])
    task = alice.create(title="t")
    body = {"title": "x", "parent_id": parent["id"], "list_id": None}
    path = "" if method == "POST" else f"/{task['id']}"
    problem = assert_problem(alice.request(method, path, json=body), 422)
    assert problem["errors"][0]["loc"] == ["body", "list_id"]


def test_put_and_patch_link_and_unlink_a_parent(alice):
    parent = alice.create(title="parent")
    task = alice.create(title="t")
    linked = alice.request("PATCH", f"/{task['id']}", json={"parent_id": parent["id"]})
    assert linked.status_code == 200
    assert linked.json()["parent_id"] == parent["id"]
    # PUT: an omitted parent_id means null, like any other editable field
    replaced = alice.request("PUT", f"/{task['id']}", json={"title": "t"})
    assert replaced.status_code == 200
    assert (replaced.json()["parent_id"], replaced.json()["list_id"]) == (None, None)


def test_subtasks_are_one_level_deep(alice):
    parent = alice.create(title="parent")
    child = alice.create(title="child", parent_id=parent["id"])
    other = alice.create(title="other")
    problem = assert_problem(alice.request("POST", json={"title": "x", "parent_id": child["id"]}), 422)
    assert problem["errors"][0]["loc"] == ["body", "parent_id"]
    # a task with subtasks cannot become a subtask; a task cannot be its own parent
    assert_problem(alice.request("PATCH", f"/{parent['id']}", json={"parent_id": other["id"]}), 422)
    assert_problem(alice.request("PATCH", f"/{other['id']}", json={"parent_id": other["id"]}), 422)
    assert_problem(move(alice, parent["id"], after_id=None, parent_id=other["id"]), 422)
    assert alice.request("GET", f"/{parent['id']}").json() == parent


def test_a_foreign_deleted_or_unknown_parent_is_422_with_one_message(alice, bob):
    theirs = bob.create(title="bob's")
    gone = alice.create(title="gone")
    assert alice.request("DELETE", f"/{gone['id']}").status_code == 204
    task = alice.create(title="t")
    messages = set()
    for parent_id in (theirs["id"], gone["id"], 2**62):
        problem = assert_problem(alice.request("POST", json={"title": "x", "parent_id": parent_id}), 422)
        messages.add(problem["errors"][0]["msg"])
        assert_problem(alice.request("PATCH", f"/{task['id']}", json={"parent_id": parent_id}), 422)
        assert_problem(move(alice, task["id"], after_id=None, parent_id=parent_id), 422)
    assert len(messages) == 1
    assert bob.request("GET", f"/{theirs['id']}").json() == theirs


@pytest.mark.parametrize("how", ["patch", "put", "move"])
def test_changing_a_parents_list_moves_its_subtasks_in_the_same_statement(alice, how):
    home, work = create_list(alice, "Home"), create_list(alice, "Work")
    parent = alice.create(title="parent", list_id=home["id"])
    children = [alice.create(title=f"c{i}", parent_id=parent["id"])["id"] for i in range(3)]
    if how == "patch":
        response = alice.request("PATCH", f"/{parent['id']}", json={"list_id": work["id"]})
    elif how == "put":
        response = alice.request("PUT", f"/{parent['id']}", json={"title": "parent", "list_id": work["id"]})
    else:
        response = move(alice, parent["id"], after_id=None, list_id=work["id"])
    assert response.status_code == 200, response.text
    assert response.json()["list_id"] == work["id"]
    assert ordered(alice, parent_id=str(parent["id"])) == children
    for child in children:
        assert alice.request("GET", f"/{child}").json()["list_id"] == work["id"]
    assert ordered(alice, list_id=str(home["id"])) == []


def test_a_subtask_cannot_leave_its_parents_list_alone(alice):
    home = create_list(alice, "Home")
    parent = alice.create(title="parent")
    child = alice.create(title="child", parent_id=parent["id"])
    assert_problem(alice.request("PATCH", f"/{child['id']}", json={"list_id": home["id"]}), 422)
    assert_problem(move(alice, child["id"], after_id=None, list_id=home["id"]), 422)
    moved = move(alice, child["id"], after_id=None, list_id=home["id"], parent_id=None)
    assert moved.status_code == 200
    assert (moved.json()["list_id"], moved.json()["parent_id"]) == (home["id"], None)


def test_deleting_a_task_tombstones_its_subtasks_in_the_same_statement(alice):
    parent = alice.create(title="parent")
    children = [alice.create(title=f"c{i}", parent_id=parent["id"]) for i in range(2)]
    keep = alice.create(title="keep")
    assert alice.request("DELETE", f"/{parent['id']}").status_code == 204
    for task in (parent, *children):
        assert_problem(alice.request("GET", f"/{task['id']}"), 404)
        assert_problem(alice.request("PATCH", f"/{task['id']}", json={"title": "x"}), 404)
    assert [t["id"] for t in alice.request("GET").json()] == [keep["id"]]
    assert alice.request("GET", "/stats").json()["total"] == 1


def test_completing_a_parent_leaves_its_subtasks_alone(alice):
    parent = alice.create(title="parent")
    child = alice.create(title="child", parent_id=parent["id"])
    assert alice.request("PATCH", f"/{parent['id']}/complete").json()["completed"] is True
    assert alice.request("GET", f"/{child['id']}").json() == child


def test_list_and_parent_filters(alice, bob):
    home = create_list(alice, "Home")
    top = alice.create(title="top")
    in_home = alice.create(title="in home", list_id=home["id"])
    child = alice.create(title="child", parent_id=in_home["id"])
    theirs = create_list(bob, "theirs")
    bob_task = bob.create(title="b", list_id=theirs["id"])

    def ids(**params: str) -> list[int]:
        response = alice.request("GET", params=params)
        assert response.status_code == 200
        return [t["id"] for t in response.json()]

    assert ids(list_id="inbox") == [top["id"]]
    assert ids(list_id=str(home["id"])) == [in_home["id"], child["id"]]
    assert ids(parent_id="none") == [top["id"], in_home["id"]]
    assert ids(parent_id=str(in_home["id"])) == [child["id"]]
    assert ids(list_id=str(home["id"]), parent_id="none") == [in_home["id"]]
    # a foreign, unknown or deleted list or parent names no existence: an empty page
    assert ids(list_id=str(theirs["id"])) == []
    assert ids(parent_id=str(bob_task["id"])) == []
    assert ids(list_id="9" * 30) == []
    assert ids(parent_id="0") == []
    assert list_request(alice, "DELETE", f"/{home['id']}").status_code == 204
    assert ids(list_id=str(home["id"])) == []


@pytest.mark.parametrize(
    "params", [{"list_id": "Inbox"}, {"list_id": "-1"}, {"list_id": "1.5"}, {"parent_id": "top"}, {"parent_id": ""}]
)
def test_malformed_filters_are_422(alice, params):
    assert_problem(alice.request("GET", params=params), 422)

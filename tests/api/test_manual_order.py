"""Manual order: after_id on create, the move route, sort=position pages, the 422s, If-Match,
the rebalance of long keys, and the round trips each costs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from shared.config import normalize_database_url
from shared.db import get_engine
from shared.models.limits import POSITION_KEY_MAX
from tests.api.order_helpers import create_list, list_request, move, ordered, positions
from tests.support.problems import assert_problem


def test_new_tasks_go_last_after_id_null_first_and_after_id_right_after(alice):
    a, b = alice.create(title="a"), alice.create(title="b")
    first = alice.create(title="first", after_id=None)
    middle = alice.create(title="middle", after_id=a["id"])
    assert ordered(alice) == [first["id"], a["id"], middle["id"], b["id"]]
    assert positions(alice) == sorted(positions(alice))  # byte order, the way a front end compares


def test_move_places_the_task_right_after_after_id_and_returns_it_with_a_new_etag(alice):
    a, b, c = (alice.create(title=t) for t in "abc")
    response = move(alice, a["id"], after_id=b["id"])
    assert response.status_code == 200
    body = response.json()
    assert response.headers["etag"] == f'"{a["id"]}.2"'
    assert body["updated_at"] > a["updated_at"]
    assert {k: v for k, v in body.items() if k not in ("position", "updated_at")} == {
        k: v for k, v in a.items() if k not in ("position", "updated_at")
    }
    assert ordered(alice) == [b["id"], a["id"], c["id"]]
    assert move(alice, c["id"], after_id=None).status_code == 200
    assert ordered(alice) == [c["id"], b["id"], a["id"]]
    # only the moved task was rewritten
    assert alice.request("GET", f"/{b['id']}").json() == b


def test_move_into_another_list_or_under_a_parent(alice):
    home = create_list(alice, "Home")
    in_home = alice.create(title="in home", list_id=home["id"])
    task = alice.create(title="t")
    moved = move(alice, task["id"], after_id=in_home["id"], list_id=home["id"])
    assert moved.status_code == 200
    assert moved.json()["list_id"] == home["id"]
    assert ordered(alice, list_id=str(home["id"]), parent_id="none") == [in_home["id"], task["id"]]
    under = move(alice, task["id"], after_id=None, parent_id=in_home["id"])
    assert (under.json()["parent_id"], under.json()["list_id"]) == (in_home["id"], home["id"])
    # omitted list_id and parent_id: the move stays in the task's scope
    sibling = alice.create(title="sibling", parent_id=in_home["id"])
    assert move(alice, sibling["id"], after_id=None).json()["parent_id"] == in_home["id"]
    assert ordered(alice, parent_id=str(in_home["id"])) == [sibling["id"], task["id"]]


def test_after_id_of_another_user_deleted_another_scope_or_itself_is_422(alice, bob):
    home = create_list(alice, "Home")
    task, other = alice.create(title="t"), alice.create(title="o")
    elsewhere = alice.create(title="elsewhere", list_id=home["id"])
    child = alice.create(title="child", parent_id=other["id"])
    gone = alice.create(title="gone")
    assert alice.request("DELETE", f"/{gone['id']}").status_code == 204
    theirs = bob.create(title="theirs")
    before = ordered(alice)
    messages = set()
    for after in (theirs["id"], gone["id"], elsewhere["id"], child["id"], task["id"], 2**62):
        problem = assert_problem(move(alice, task["id"], after_id=after), 422)
        assert problem["errors"][0]["loc"] == ["body", "after_id"]
        messages.add(problem["errors"][0]["msg"])
        if after != task["id"]:
            assert_problem(alice.request("POST", json={"title": "x", "after_id": after}), 422)
    assert len(messages) == 1
    assert ordered(alice) == before
    assert alice.request("GET", f"/{task['id']}").json() == task
    assert bob.request("GET", f"/{theirs['id']}").json() == theirs


# Every id field of every body: after_id exists only on create and move (PUT and PATCH refuse it
# as an unknown field, tested below).
ID_FIELDS = [
    (route, field)
    for route in ("create", "put", "patch", "move")
    for field in ("list_id", "parent_id", "after_id")
    if field != "after_id" or route in ("create", "move")
]


@pytest.mark.parametrize(("route", "field"), ID_FIELDS)
def test_another_users_ids_in_every_body_field_are_422(alice, bob, field, route):
    ids = {"list_id": create_list(bob, "b")["id"], "parent_id": bob.create(title="p")["id"]}
    ids["after_id"] = ids["parent_id"]
    task = alice.create(title="t")
    body: dict[str, Any] = {field: ids[field]}
    if route == "create":
        response = alice.request("POST", json={"title": "x", **body})
    elif route == "put":
        response = alice.request("PUT", f"/{task['id']}", json={"title": "x", **body})
    elif route == "patch":
        response = alice.request("PATCH", f"/{task['id']}", json=body)
    else:
        response = move(alice, task["id"], **{"after_id": None, **body})
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", field]
    assert alice.request("GET", f"/{task['id']}").json() == task


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_after_id_is_not_a_field_of_put_or_patch(alice, method):
    task = alice.create(title="t")
    assert_problem(alice.request(method, f"/{task['id']}", json={"title": "t", "after_id": None}), 422)


@pytest.mark.parametrize(
    "body", [{}, {"after_id": "1"}, {"after_id": 1.0}, {"after_id": 0}, {"after_id": 2**63}, {"after_id": None, "x": 1}]
)
def test_malformed_move_bodies_are_422(alice, body):
    task = alice.create(title="t")
    assert_problem(alice.request("POST", f"/{task['id']}/move", json=body), 422)


def test_a_stale_if_match_on_move_is_412_and_changes_nothing(alice):
    a, b = alice.create(title="a"), alice.create(title="b")
    stale = f'"{a["id"]}.0"'
    assert_problem(move(alice, a["id"], after_id=b["id"], headers={"If-Match": stale}), 412)
    assert alice.request("GET", f"/{a['id']}").json() == a
    assert ordered(alice) == [a["id"], b["id"]]
    current = alice.request("GET", f"/{a['id']}").headers["etag"]
    assert move(alice, a["id"], after_id=b["id"], headers={"If-Match": current}).status_code == 200
    assert_problem(move(alice, a["id"], after_id=None, headers={"If-Match": current}), 412)


def test_moving_another_users_or_a_missing_task_is_404(alice, bob):
    theirs, mine = bob.create(title="theirs"), alice.create(title="mine")
    assert_problem(move(alice, theirs["id"], after_id=None), 404)
    assert_problem(move(alice, theirs["id"], after_id=None, headers={"If-Match": "*"}), 404)
    assert_problem(move(alice, 10**15, after_id=mine["id"]), 404)
    assert bob.request("GET", f"/{theirs['id']}").json() == theirs


def test_move_needs_a_token_and_the_callers_own_path(client, alice, bob):
    task = alice.create(title="t")
    path = f"/api/{alice.user_id}/tasks/{task['id']}/move"
    assert_problem(client.post(path, json={"after_id": None}), 401)
    assert_problem(client.post(path, json={"after_id": None}, headers=bob.headers), 403)


@pytest.mark.parametrize("sort", ["position", "-position"])
@pytest.mark.parametrize("scope", [{}, {"list_id": "inbox", "parent_id": "none"}])
def test_sort_position_pages_by_keyset_without_gaps_or_duplicates(alice, sort, scope):
    ids = [alice.create(title=f"t{i}")["id"] for i in range(9)]
    for mover, after in [(ids[8], None), (ids[0], ids[5]), (ids[3], ids[8]), (ids[6], ids[2])]:
        assert move(alice, mover, after_id=after).status_code == 200
    whole = alice.request("GET", params={"sort": sort, **scope}).json()
    keys = [t["position"] for t in whole]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    paged = []
    response = alice.request("GET", params={"sort": sort, "limit": 2, **scope})
    while True:
        paged += response.json()
        if "link" not in response.headers:
            break
        if len(paged) == 4:  # a task created meanwhile, on the side already read, never shifts a page
            if sort.startswith("-"):
                alice.create(title="late")
            else:
                alice.create(title="late", after_id=None)
        response = alice.client.get(response.headers["link"].split(">")[0][1:], headers=alice.headers)
    assert [t["id"] for t in paged] == [t["id"] for t in whole]


def set_positions(database_url: str, keys: dict[int, str]) -> None:
    engine = create_engine(normalize_database_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL tasks_api.rebalancing = 'on'"))
        for task_id, key in keys.items():
            connection.execute(text("UPDATE tasks SET position = :k WHERE id = :id"), {"k": key, "id": task_id})
    engine.dispose()


@pytest.fixture
def round_trips() -> Iterator[list[str]]:
    """Every message the app sends to PostgreSQL (one per execute: autocommit, no pings)."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    yield sent
    event.remove(engine, "before_cursor_execute", count)


def test_a_key_past_the_bound_rebalances_the_scope_in_a_second_round_trip(alice, database_url, round_trips):
    a, b, c = (alice.create(title=t) for t in "abc")
    other_scope = alice.create(title="other", parent_id=c["id"])
    set_positions(database_url, {a["id"]: "a0" + "1" * 62, b["id"]: "a0" + "1" * 61 + "2", c["id"]: "a1"})
    round_trips.clear()
    response = move(alice, c["id"], after_id=a["id"])
    assert response.status_code == 200
    assert len(round_trips) == 2
    assert response.json()["position"] == "a1"
    assert response.headers["etag"] == f'"{c["id"]}.3"'  # moved, then rewritten by the rebalance
    assert ordered(alice, parent_id="none") == [a["id"], c["id"], b["id"]]
    assert positions(alice, parent_id="none") == ["a0", "a1", "a2"]
    assert alice.request("GET", f"/{other_scope['id']}").json() == other_scope
    assert alice.request("GET", f"/{a['id']}").headers["etag"] == f'"{a["id"]}.2"'


def test_repeated_inserts_at_one_spot_keep_keys_within_the_bound(alice):
    first = alice.create(title="first")
    alice.create(title="last")
    for i in range(400):
        created = alice.create(title=f"t{i}", after_id=first["id"])
        assert len(created["position"]) <= POSITION_KEY_MAX
    assert max(len(key) for key in positions(alice)) <= POSITION_KEY_MAX
    assert ordered(alice)[0] == first["id"]


@pytest.mark.parametrize(
    ("label", "call"),
    [
        ("create last", lambda u, t: u.request("POST", json={"title": "x"})),
        ("create after", lambda u, t: u.request("POST", json={"title": "x", "after_id": t})),
        ("move", lambda u, t: u.request("POST", f"/{t}/move", json={"after_id": None})),
        ("move to a list", lambda u, t: u.request("POST", f"/{t}/move", json={"after_id": None, "list_id": None})),
        ("patch list", lambda u, t: u.request("PATCH", f"/{t}", json={"list_id": None, "parent_id": None})),
        ("delete", lambda u, t: u.request("DELETE", f"/{t}")),
        ("sorted page", lambda u, t: u.request("GET", params={"sort": "position", "parent_id": str(t)})),
        ("list lists", lambda u, t: list_request(u, "GET")),
        ("create list", lambda u, t: list_request(u, "POST", json={"name": f"n{t}"})),
    ],
)
def test_each_request_is_one_round_trip(alice, round_trips, label, call):
    task = alice.create(title="t")
    alice.create(title="sub", parent_id=task["id"])
    round_trips.clear()
    response = call(alice, task["id"])
    assert response.status_code < 300, response.text
    assert len(round_trips) == 1, label


def test_list_move_delete_and_rename_are_one_round_trip_each(alice, round_trips):
    a, b = create_list(alice, "a"), create_list(alice, "b")
    for method, suffix, body in [
        ("POST", f"/{a['id']}/move", {"after_id": b["id"]}),
        ("PATCH", f"/{a['id']}", {"name": "c"}),
        ("DELETE", f"/{a['id']}", None),
    ]:
        round_trips.clear()
        assert list_request(alice, method, suffix, json=body).status_code < 300
        assert len(round_trips) == 1, (method, suffix)

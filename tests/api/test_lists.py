"""Lists: the routes behave like the task routes at the edges (201 + Location + ETag, 304, 412),
names are unique per user whatever their case, and deleting a list tombstones its tasks."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from shared.config import normalize_database_url
from shared.models.limits import LIST_NAME_MAX
from tests.api.order_helpers import create_list, list_request
from tests.support.problems import assert_problem


def test_create_is_201_with_location_etag_and_the_list(alice):
    response = list_request(alice, "POST", json={"name": "  Groceries  "})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "position", "created_at", "updated_at"}
    assert body["name"] == "Groceries"
    assert response.headers["location"] == f"/api/{alice.user_id}/lists/{body['id']}"
    assert response.headers["etag"] == f'"{body["id"]}.1"'
    got = list_request(alice, "GET", f"/{body['id']}")
    assert got.status_code == 200
    assert got.json() == body
    assert got.headers["etag"] == response.headers["etag"]


def test_new_lists_go_to_the_end_and_the_listing_is_in_manual_order(alice):
    ids = [create_list(alice, name)["id"] for name in ("one", "two", "three")]
    listed = list_request(alice, "GET")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == ids
    moved = list_request(alice, "POST", f"/{ids[2]}/move", json={"after_id": None})
    assert moved.status_code == 200
    assert [row["id"] for row in list_request(alice, "GET").json()] == [ids[2], ids[0], ids[1]]
    moved = list_request(alice, "POST", f"/{ids[2]}/move", json={"after_id": ids[0]})
    assert moved.status_code == 200
    assert moved.headers["etag"] == f'"{ids[2]}.3"'
    assert [row["id"] for row in list_request(alice, "GET").json()] == [ids[0], ids[2], ids[1]]


def test_if_none_match_is_304(alice):
    created = list_request(alice, "POST", json={"name": "x"})
    etag = created.headers["etag"]
    response = list_request(alice, "GET", f"/{created.json()['id']}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert response.content == b""


@pytest.mark.parametrize("name", ["groceries", "GROCERIES", " Groceries "])
def test_names_are_unique_per_user_whatever_their_case(alice, bob, name):
    create_list(alice, "Groceries")
    assert_problem(list_request(alice, "POST", json={"name": name}), 409)
    create_list(bob, name)  # another user's names are theirs


def test_renaming_onto_another_lists_name_is_409_and_changes_nothing(alice):
    create_list(alice, "Home")
    work = create_list(alice, "Work")
    assert_problem(list_request(alice, "PATCH", f"/{work['id']}", json={"name": "HOME"}), 409)
    assert list_request(alice, "GET", f"/{work['id']}").json() == work


def test_a_deleted_lists_name_is_free_again(alice):
    first = create_list(alice, "Trips")
    assert list_request(alice, "DELETE", f"/{first['id']}").status_code == 204
    assert create_list(alice, "trips")["id"] != first["id"]


def test_patch_renames_and_moves_the_etag(alice):
    created = create_list(alice, "Old")
    response = list_request(alice, "PATCH", f"/{created['id']}", json={"name": "New", "id": 99, "position": "zz"})
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["position"] == created["position"]
    assert response.headers["etag"] == f'"{created["id"]}.2"'


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * (LIST_NAME_MAX + 1)},
        {"name": "a\x00b"},
        {"name": "tab\there"},
        {"name": None},
        {"name": 5},
        {"colour": "red"},
    ],
)
def test_bad_names_and_unknown_fields_are_422(alice, body):
    assert_problem(list_request(alice, "POST", json={"name": "ok", **body}), 422)
    created = create_list(alice, "fine")
    assert_problem(list_request(alice, "PATCH", f"/{created['id']}", json=body), 422)


def test_a_name_of_exactly_the_limit_is_accepted(alice):
    assert create_list(alice, "n" * LIST_NAME_MAX)["name"] == "n" * LIST_NAME_MAX


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PATCH", "", {"name": "x"}), ("DELETE", "", None), ("POST", "/move", {"after_id": None})],
)
def test_stale_if_match_is_412_and_changes_nothing(alice, method, suffix, body):
    created = create_list(alice, "guarded")
    other = create_list(alice, "other")
    stale = f'"{created["id"]}.0"'
    response = list_request(alice, method, f"/{created['id']}{suffix}", json=body, headers={"If-Match": stale})
    assert_problem(response, 412)
    assert list_request(alice, "GET", f"/{created['id']}").json() == created
    assert [row["id"] for row in list_request(alice, "GET").json()] == [created["id"], other["id"]]
    current = list_request(alice, "GET", f"/{created['id']}").headers["etag"]
    response = list_request(alice, method, f"/{created['id']}{suffix}", json=body, headers={"If-Match": current})
    assert response.status_code == (204 if method == "DELETE" else 200)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/move", {"after_id": None}),
    ],
)
def test_another_users_list_is_404_and_stays_unchanged(alice, bob, method, suffix, body):
    theirs = create_list(bob, "bob's")
    assert_problem(list_request(alice, method, f"/{theirs['id']}{suffix}", json=body), 404)
    assert_problem(list_request(alice, method, f"/{theirs['id']}{suffix}", json=body, headers={"If-Match": "*"}), 404)
    assert list_request(bob, "GET", f"/{theirs['id']}").json() == theirs
    assert_problem(list_request(alice, method, f"/999999999{suffix}", json=body), 404)
    assert_problem(list_request(alice, method, f"/{2**63}{suffix}", json=body), 404)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", ""), ("GET", "/1"), ("PATCH", "/1"), ("DELETE", "/1"), ("POST", "/1/move")],
)
def test_no_token_is_401_and_another_users_path_is_403(client, alice, bob, method, suffix):
    body = {"name": "x", "after_id": None} if method in ("POST", "PATCH") else None
    path = f"/api/{alice.user_id}/lists{suffix}"
    if method in ("POST", "PATCH") and suffix:
        body = {"after_id": None} if suffix.endswith("move") else {"name": "x"}
    assert_problem(client.request(method, path, json=body), 401)
    assert_problem(client.request(method, path, json=body, headers=bob.headers), 403)


def test_move_after_a_foreign_deleted_or_same_list_is_422(alice, bob):
    mine = create_list(alice, "mine")
    gone = create_list(alice, "gone")
    assert list_request(alice, "DELETE", f"/{gone['id']}").status_code == 204
    theirs = create_list(bob, "theirs")
    for after in (theirs["id"], gone["id"], mine["id"], 2**62):
        body = assert_problem(list_request(alice, "POST", f"/{mine['id']}/move", json={"after_id": after}), 422)
        assert body["errors"][0]["loc"] == ["body", "after_id"]
    assert list_request(alice, "GET", f"/{mine['id']}").json() == mine


def test_deleting_a_list_tombstones_it_and_every_task_in_it_in_one_statement(alice, database_url):
    home = create_list(alice, "Home")
    parent = alice.create(title="parent", list_id=home["id"])
    child = alice.create(title="child", parent_id=parent["id"])
    assert child["list_id"] == home["id"]
    inbox = alice.create(title="inbox")
    assert list_request(alice, "DELETE", f"/{home['id']}").status_code == 204
    assert_problem(list_request(alice, "GET", f"/{home['id']}"), 404)
    assert_problem(list_request(alice, "DELETE", f"/{home['id']}"), 404)
    for task in (parent, child):
        assert_problem(alice.request("GET", f"/{task['id']}"), 404)
    assert [t["id"] for t in alice.request("GET").json()] == [inbox["id"]]
    assert alice.request("GET", "/stats").json()["total"] == 1
    assert list_request(alice, "GET").json() == []
    engine = create_engine(normalize_database_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, deleted_at, position, change_seq FROM tasks WHERE user_id = :u ORDER BY id"),
            {"u": alice.user_id},
        ).all()
        listed = connection.execute(
            text("SELECT deleted_at, change_seq FROM lists WHERE id = :id"), {"id": home["id"]}
        ).one()
    engine.dispose()
    tombstones = [row for row in rows if row.deleted_at is not None]
    assert [row.id for row in tombstones] == [parent["id"], child["id"]]
    assert all(row.position is None for row in tombstones)
    # One statement: the list and its tasks were tombstoned at the same instant.
    assert {row.deleted_at for row in tombstones} == {listed.deleted_at}


def test_a_task_cannot_join_a_deleted_or_foreign_list(alice, bob):
    gone = create_list(alice, "gone")
    assert list_request(alice, "DELETE", f"/{gone['id']}").status_code == 204
    theirs = create_list(bob, "theirs")
    task = alice.create(title="t")
    for list_id in (gone["id"], theirs["id"], 2**62):
        first = assert_problem(alice.request("POST", json={"title": "x", "list_id": list_id}), 422)
        assert first["errors"][0]["loc"] == ["body", "list_id"]
        again = assert_problem(alice.request("PATCH", f"/{task['id']}", json={"list_id": list_id}), 422)
        assert again["errors"] == first["errors"]  # one message whether foreign, deleted or unknown
        assert_problem(alice.request("PUT", f"/{task['id']}", json={"title": "t", "list_id": list_id}), 422)
        assert_problem(alice.request("POST", f"/{task['id']}/move", json={"after_id": None, "list_id": list_id}), 422)
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_a_list_key_past_the_bound_rebalances_the_users_lists(alice, database_url):
    a, b, c = (create_list(alice, name) for name in "abc")
    engine = create_engine(normalize_database_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL tasks_api.rebalancing = 'on'"))
        for list_id, key in ((a["id"], "a0" + "1" * 62), (b["id"], "a0" + "1" * 61 + "2"), (c["id"], "a1")):
            connection.execute(text("UPDATE lists SET position = :k WHERE id = :id"), {"k": key, "id": list_id})
    engine.dispose()
    moved = list_request(alice, "POST", f"/{c['id']}/move", json={"after_id": a["id"]})
    assert moved.status_code == 200
    assert moved.json()["position"] == "a1"
    assert moved.headers["etag"] == f'"{c["id"]}.3"'
    listed = list_request(alice, "GET").json()
    assert [(row["id"], row["position"]) for row in listed] == [(a["id"], "a0"), (c["id"], "a1"), (b["id"], "a2")]

"""GET /api/{user_id}/sync: full and incremental pages, tokens, paging, 410."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import text

from tests.api.sync_client import LocalCopy, database, insert_list, insert_subtask, sync
from tests.support.problems import assert_problem
from tests.support.tokens import auth
from tests.support.users import UserClient


def test_without_a_token_is_401(alice: UserClient) -> None:
    response = alice.client.get(f"/api/{alice.user_id}/sync")
    assert_problem(response, 401)


def test_another_users_path_is_403(alice: UserClient, bob: UserClient) -> None:
    response = alice.client.get(f"/api/{bob.user_id}/sync", headers=alice.headers)
    assert_problem(response, 403)


def test_a_new_user_gets_an_empty_full_sync(alice: UserClient) -> None:
    page = sync(alice)
    assert page["tasks"] == [] and page["lists"] == [] and page["more"] is False
    assert page["deleted_tasks"] == [] and page["deleted_lists"] == []
    again = sync(alice, page["sync_token"])
    assert again["tasks"] == [] and again["more"] is False


def test_full_sync_lists_live_tasks_and_lists_without_tombstones(alice: UserClient, migrated_database: str) -> None:
    kept = alice.create(title="kept")
    gone = alice.create(title="gone")
    assert alice.request("DELETE", f"/{gone['id']}").status_code == 204
    with database(migrated_database) as db:
        list_id = insert_list(db, alice.user_id, "Groceries")
    page = sync(alice)
    assert [t["id"] for t in page["tasks"]] == [kept["id"]]
    assert page["tasks"][0] == alice.request("GET", f"/{kept['id']}").json()
    assert [item["id"] for item in page["lists"]] == [list_id]
    assert set(page["lists"][0]) == {"id", "name", "position", "created_at", "updated_at"}
    assert page["lists"][0]["name"] == "Groceries"
    assert page["deleted_tasks"] == [] and page["more"] is False


def test_incremental_sync_reports_each_change_once_in_its_latest_state(alice: UserClient) -> None:
    edited = alice.create(title="before")
    token = sync(alice)["sync_token"]
    alice.request("PATCH", f"/{edited['id']}", json={"title": "after"})
    alice.request("PATCH", f"/{edited['id']}/complete")
    created = alice.create(title="new")
    short_lived = alice.create(title="short-lived")
    alice.request("DELETE", f"/{short_lived['id']}")
    page = sync(alice, token)
    assert [t["id"] for t in page["tasks"]] == [edited["id"], created["id"]]
    assert page["tasks"][0]["title"] == "after" and page["tasks"][0]["completed"] is True
    assert [t["id"] for t in page["deleted_tasks"]] == [short_lived["id"]]
    assert set(page["deleted_tasks"][0]) == {"id", "deleted_at"}
    assert page["deleted_tasks"][0]["deleted_at"].endswith("Z")
    assert sync(alice, page["sync_token"])["tasks"] == []


def test_an_unchanged_poll_returns_empty_arrays_and_the_same_position(alice: UserClient) -> None:
    alice.create()
    token = sync(alice)["sync_token"]
    page = sync(alice, token)
    assert page == {
        "tasks": [],
        "lists": [],
        "deleted_tasks": [],
        "deleted_lists": [],
        "sync_token": token,
        "more": False,
    }


def test_pages_are_bounded_by_limit_counting_everything_together(alice: UserClient, migrated_database: str) -> None:
    token = sync(alice)["sync_token"]
    tasks = [alice.create(title=f"t{n}") for n in range(5)]
    alice.request("DELETE", f"/{tasks[0]['id']}")
    with database(migrated_database) as db:
        insert_list(db, alice.user_id, "L1")
    sizes = []
    copy = LocalCopy()
    copy.token = token
    while True:
        page = sync(alice, copy.token, limit=2)
        sizes.append(len(page["tasks"]) + len(page["lists"]) + len(page["deleted_tasks"]))
        copy.apply(page)
        if not page["more"]:
            break
    assert sizes == [2, 2, 2]  # 4 live tasks, 1 tombstone (the first create, once), 1 list
    assert sorted(copy.tasks) == [t["id"] for t in tasks[1:]]
    assert len(copy.lists) == 1


def test_a_paged_full_sync_equals_the_listing(alice: UserClient) -> None:
    tasks = [alice.create(title=f"t{n}") for n in range(7)]
    alice.request("DELETE", f"/{tasks[3]['id']}")
    copy = LocalCopy()
    copy.catch_up(alice, limit=3)
    assert copy.pages == 3  # 6 live tasks, then the tombstone: continuation pages are incremental
    listing = alice.request("GET").json()
    assert copy.tasks == {t["id"]: t for t in listing}


def test_deleting_a_task_reports_its_subtasks_deleted_too(alice: UserClient, migrated_database: str) -> None:
    parent = alice.create(title="parent")
    with database(migrated_database) as db:
        child = insert_subtask(db, alice.user_id, parent["id"])
    token = sync(alice)["sync_token"]
    assert alice.request("DELETE", f"/{parent['id']}").status_code == 204
    page = sync(alice, token)
    assert sorted(t["id"] for t in page["deleted_tasks"]) == sorted([parent["id"], child])
    assert alice.request("GET", f"/{child}").status_code == 404


def test_limit_outside_1_to_1000_is_422(alice: UserClient) -> None:
    for limit in ("0", "1001", "x"):
        response = alice.client.get(f"/api/{alice.user_id}/sync?limit={limit}", headers=alice.headers)
        assert_problem(response, 422)


def _forge(token: str, position: int, floor: int) -> str:
    _, _, signature = token.partition(".")
    payload = base64.urlsafe_b64encode(json.dumps([position, floor]).encode()).rstrip(b"=").decode()
    return f"{payload}.{signature}"


def test_forged_truncated_or_garbage_tokens_are_400(alice: UserClient) -> None:
    alice.create()
    token = sync(alice)["sync_token"]
    for bad in (token[:-1], token[:5], "garbage", _forge(token, 0, 0), token + "x", "." + token.split(".")[1]):
        response = alice.client.get(f"/api/{alice.user_id}/sync", params={"since": bad}, headers=alice.headers)
        body = assert_problem(response, 400)
        assert body["type"] == "urn:tasks-api:problem:bad-sync-token"


def test_another_users_token_is_400(alice: UserClient, bob: UserClient) -> None:
    bob.create()
    bobs = sync(bob)["sync_token"]
    response = alice.client.get(f"/api/{alice.user_id}/sync", params={"since": bobs}, headers=alice.headers)
    assert_problem(response, 400)


def _gone(user: UserClient, token: str) -> dict[str, Any]:
    response = user.client.get(f"/api/{user.user_id}/sync", params={"since": token}, headers=user.headers)
    body = assert_problem(response, 410)
    assert body["type"] == "urn:tasks-api:problem:sync-reset-required"
    return body


def test_a_token_older_than_a_pruned_tombstone_is_410(alice: UserClient, migrated_database: str) -> None:
    old = alice.create(title="old")
    token = sync(alice)["sync_token"]
    alice.request("DELETE", f"/{old['id']}")
    with database(migrated_database) as db:
        db.execute(
            text("UPDATE tasks SET deleted_at = now() - interval '31 days' WHERE user_id = :u AND id = :i"),
            {"u": alice.user_id, "i": old["id"]},
        )
    fresh = sync(alice)["sync_token"]  # a full sync after ageing: still fine
    other = alice.create(title="other")
    assert alice.request("DELETE", f"/{other['id']}").status_code == 204  # prunes the aged tombstone
    with database(migrated_database) as db:
        left = db.execute(text("SELECT count(*) FROM tasks WHERE id = :i"), {"i": old["id"]}).scalar_one()
    assert left == 0
    _gone(alice, token)
    page = sync(alice, fresh)
    assert [t["id"] for t in page["deleted_tasks"]] == [other["id"]]
    restarted = sync(alice)
    assert [t["id"] for t in restarted["tasks"]] == []


def test_a_token_from_before_a_database_reset_is_410(alice: UserClient, migrated_database: str, client: Any) -> None:
    for n in range(3):
        alice.create(title=f"t{n}")
    token = sync(alice)["sync_token"]
    with database(migrated_database) as db:
        db.execute(text("DELETE FROM tasks WHERE user_id = :u"), {"u": alice.user_id})
        db.execute(text("DELETE FROM sync_state WHERE user_id = :u"), {"u": alice.user_id})
    _gone(alice, token)
    alice.create(title="after reset")
    _gone(alice, token)
    assert len(sync(alice)["tasks"]) == 1


def test_the_same_user_on_two_devices_converges(alice: UserClient) -> None:
    phone, laptop = LocalCopy(), LocalCopy()
    phone.catch_up(alice)
    first = alice.create(title="from the laptop")
    laptop.catch_up(alice)
    alice.request("PATCH", f"/{first['id']}", json={"priority": "high"})
    phone.catch_up(alice)
    laptop.catch_up(alice)
    assert phone.tasks == laptop.tasks == {first["id"]: alice.request("GET", f"/{first['id']}").json()}
    assert auth(alice.user_id)  # the helper's headers stay valid across calls

"""Deletes keep tombstones: gone for every route but sync, pruned after 30 days by later deletes."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.sync_client import database, insert_subtask
from tests.support.problems import assert_problem
from tests.support.users import UserClient


def test_a_deleted_task_is_404_on_every_route(alice: UserClient) -> None:
    task = alice.create(title="doomed")
    etag = alice.request("GET", f"/{task['id']}").headers["etag"]
    assert alice.request("DELETE", f"/{task['id']}").status_code == 204
    path = f"/{task['id']}"
    assert_problem(alice.request("GET", path), 404)
    assert_problem(alice.request("PUT", path, json={"title": "x"}), 404)
    assert_problem(alice.request("PATCH", path, json={"title": "x"}), 404)
    assert_problem(alice.request("PATCH", path + "/complete"), 404)
    assert_problem(alice.request("DELETE", path), 404)
    for method, suffix, body in (("PUT", "", {"title": "x"}), ("PATCH", "/complete", None), ("DELETE", "", None)):
        response = alice.request(method, path + suffix, json=body, headers={"If-Match": etag})
        assert_problem(response, 404)
    response = alice.request("PATCH", path, json={"title": "x"}, headers={"If-Match": "*"})
    assert_problem(response, 404)


def test_a_deleted_task_is_never_listed_or_counted(alice: UserClient) -> None:
    kept = alice.create(title="kept", due_at="2000-01-01T00:00:00Z")
    gone = alice.create(title="gone", due_at="2000-01-01T00:00:00Z", completed=True)
    overdue = alice.create(title="overdue gone", due_at="2000-01-01T00:00:00Z")
    for task in (gone, overdue):
        assert alice.request("DELETE", f"/{task['id']}").status_code == 204
    assert [t["id"] for t in alice.request("GET").json()] == [kept["id"]]
    for query in ("?status=completed", "?q=gone", "?sort=-title", "?due_before=2001-01-01T00:00:00Z"):
        assert [t["id"] for t in alice.request("GET", query).json()] == (
            [] if "gone" in query or "completed" in query else [kept["id"]]
        )
    assert alice.request("GET", "/stats").json() == {"total": 1, "pending": 1, "completed": 0, "overdue": 1}


def test_an_idempotent_create_replays_after_its_task_was_deleted(alice: UserClient) -> None:
    first = alice.request("POST", json={"title": "once"}, headers={"Idempotency-Key": "k-1"})
    assert alice.request("DELETE", f"/{first.json()['id']}").status_code == 204
    replay = alice.request("POST", json={"title": "once"}, headers={"Idempotency-Key": "k-1"})
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert alice.request("GET").json() == []


def test_deleting_a_task_tombstones_its_subtasks_in_the_same_statement(
    alice: UserClient, migrated_database: str
) -> None:
    parent = alice.create(title="parent")
    stale = alice.request("GET", f"/{parent['id']}").headers["etag"]
    with database(migrated_database) as db:
        child = insert_subtask(db, alice.user_id, parent["id"])
    alice.request("PATCH", f"/{parent['id']}", json={"title": "renamed"})
    # A stale If-Match deletes nothing: neither the task nor its subtask.
    assert_problem(alice.request("DELETE", f"/{parent['id']}", headers={"If-Match": stale}), 412)
    assert alice.request("GET", f"/{child}").status_code == 200
    assert alice.request("DELETE", f"/{parent['id']}").status_code == 204
    assert_problem(alice.request("GET", f"/{child}"), 404)
    with database(migrated_database) as db:
        rows = db.execute(
            text("SELECT id, deleted_at IS NOT NULL, position FROM tasks WHERE user_id = :u ORDER BY id"),
            {"u": alice.user_id},
        ).all()
    assert [tuple(r) for r in rows] == [(parent["id"], True, None), (child, True, None)]


def test_another_users_delete_never_touches_my_tasks(alice: UserClient, bob: UserClient) -> None:
    mine = alice.create()
    assert_problem(bob.request("DELETE", f"/{mine['id']}"), 404)
    assert alice.request("GET", f"/{mine['id']}").status_code == 200


def test_tombstones_older_than_30_days_are_pruned_by_later_deletes(alice: UserClient, migrated_database: str) -> None:
    old, recent, trigger = (alice.create(title=t) for t in ("old", "recent", "trigger"))
    for task in (old, recent):
        alice.request("DELETE", f"/{task['id']}")
    with database(migrated_database) as db:
        db.execute(text("UPDATE tasks SET deleted_at = now() - interval '31 days' WHERE id = :i"), {"i": old["id"]})
        before = db.execute(text("SELECT pruned_seq FROM sync_state WHERE user_id = :u"), {"u": alice.user_id})
        assert before.scalar_one() == 0
    assert alice.request("DELETE", f"/{trigger['id']}").status_code == 204
    with database(migrated_database) as db:
        left = (
            db.execute(text("SELECT id FROM tasks WHERE user_id = :u ORDER BY id"), {"u": alice.user_id})
            .scalars()
            .all()
        )
        pruned = db.execute(text("SELECT pruned_seq FROM sync_state WHERE user_id = :u"), {"u": alice.user_id})
        assert pruned.scalar_one() > 0
    assert left == [recent["id"], trigger["id"]]

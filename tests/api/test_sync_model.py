"""Model-based: a thousand random writes (creates, edits, completions, deletes, batches, subtasks,
lists) while a simulated offline-first client syncs at random moments with random page sizes and
applies every page to its local copy. After a final sync the copy equals a full listing."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Connection, text

from tests.api.sync_client import LocalCopy, database, insert_list, insert_subtask, sync
from tests.support.users import UserClient

OPERATIONS = 1000


def listing(user: UserClient) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    response = user.request("GET", "?limit=200")
    while True:
        assert response.status_code == 200
        found.update({t["id"]: t for t in response.json()})
        link = response.headers.get("link")
        if not link:
            return found
        response = user.client.get(link[1 : link.index(">")], headers=user.headers)


class Driver:
    def __init__(self, user: UserClient, db: Connection, rnd: random.Random) -> None:
        self.user, self.db, self.rnd = user, db, rnd
        self.live: set[int] = set()  # the model: the ids that must exist
        self.parents: dict[int, int] = {}  # subtask -> parent
        self.lists: set[int] = set()

    def pick(self) -> int | None:
        return self.rnd.choice(sorted(self.live)) if self.live else None

    def forget(self, task_id: int) -> None:
        self.live.discard(task_id)
        for child in [c for c, p in self.parents.items() if p == task_id]:
            self.live.discard(child)
            del self.parents[child]
        self.parents.pop(task_id, None)

    def step(self) -> None:
        rnd, user = self.rnd, self.user
        choice = rnd.random()
        task_id = self.pick()
        if choice < 0.25 or task_id is None:
            created = user.create(title=f"t{rnd.randrange(10**6)}", priority=rnd.choice(["low", "medium", "high"]))
            self.live.add(created["id"])
        elif choice < 0.45:
            body = rnd.choice(
                [{"title": f"e{rnd.random()}"}, {"tags": [f"g{rnd.randrange(5)}"]}, {"description": None}]
            )
            assert user.request("PATCH", f"/{task_id}", json=body).status_code == 200
        elif choice < 0.55:
            assert user.request("PUT", f"/{task_id}", json={"title": "replaced"}).status_code == 200
            self.parents.pop(task_id, None)  # PUT's omitted parent_id is null: a subtask becomes top level
        elif choice < 0.65:
            assert user.request("PATCH", f"/{task_id}/complete").status_code == 200
        elif choice < 0.75:
            assert user.request("DELETE", f"/{task_id}").status_code == 204
            self.forget(task_id)
        elif choice < 0.85:
            self.batch()
        elif choice < 0.92:
            top_level = sorted(t for t in self.live if t not in self.parents)
            if top_level:
                parent = rnd.choice(top_level)
                child = insert_subtask(self.db, user.user_id, parent)
                self.live.add(child)
                self.parents[child] = parent
        else:
            self.list_change()

    def batch(self) -> None:
        rnd = self.rnd
        ops: list[dict[str, Any]] = []
        ids = sorted(self.live)
        refs: list[str] = []
        created = 0
        for n in range(rnd.randint(1, 8)):
            kind = rnd.random()
            if kind < 0.4 or not (ids or refs):
                ops.append({"op": "create", "ref": f"r{n}", "body": {"title": f"b{n}"}})
                refs.append(f"r{n}")
                created += 1
            elif kind < 0.8:
                target: int | str = rnd.choice(ids + [f"${r}" for r in refs])
                ops.append({"op": rnd.choice(["update", "complete"]), "id": target, "body": {"tags": ["b"]}})
                if ops[-1]["op"] == "complete":
                    ops[-1]["body"] = {"completed": rnd.random() < 0.5}
            else:
                ops.append({"op": "update", "id": 2**62, "body": {}})  # fails: the batch changes nothing
        response = self.user.request("POST", "/batch", json={"operations": ops})
        if any(op.get("id") == 2**62 for op in ops):
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        for op, result in zip(ops, response.json()["results"], strict=True):
            if op["op"] == "create":
                self.live.add(result["task"]["id"])
        assert created == sum(op["op"] == "create" for op in ops)

    def list_change(self) -> None:
        rnd, owner = self.rnd, self.user.user_id
        if not self.lists or rnd.random() < 0.5:
            self.lists.add(insert_list(self.db, owner, f"list {rnd.randrange(10**9)}"))
            return
        list_id = rnd.choice(sorted(self.lists))
        if rnd.random() < 0.5:
            self.db.execute(
                text("UPDATE lists SET name = :n, updated_at = now(), version = version + 1 WHERE id = :i"),
                {"n": f"renamed {rnd.randrange(10**9)}", "i": list_id},
            )
        else:
            self.db.execute(text("UPDATE lists SET deleted_at = now() WHERE id = :i"), {"i": list_id})
            self.lists.discard(list_id)


def test_a_syncing_client_converges_on_a_thousand_random_writes(alice: UserClient, migrated_database: str) -> None:
    rnd = random.Random(14)
    copy = LocalCopy()
    with database(migrated_database) as db:
        driver = Driver(alice, db, rnd)
        for _ in range(OPERATIONS):
            driver.step()
            if rnd.random() < 0.08:
                if rnd.random() < 0.3:
                    copy.apply(sync(alice, copy.token, rnd.choice([1, 3, 50])))  # one page, more may follow
                else:
                    copy.catch_up(alice, limit=rnd.choice([1, 2, 7, 100, None]))
        lists = {
            row.id
            for row in db.execute(
                text("SELECT id FROM lists WHERE user_id = :u AND deleted_at IS NULL"), {"u": alice.user_id}
            )
        }
    copy.catch_up(alice, limit=rnd.choice([5, 500]))
    server = listing(alice)
    assert set(server) == driver.live
    assert copy.tasks == server
    assert set(copy.lists) == lists == driver.lists
    fresh = LocalCopy()
    fresh.catch_up(alice, limit=37)
    assert fresh.tasks == server and fresh.lists == copy.lists
    assert copy.pages > 30

"""Test helpers for sync: a user's sync calls, direct SQL for what no route does yet (lists,
subtasks, ageing tombstones), and a client-side copy that applies sync pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, create_engine, text

from shared.config import normalize_database_url
from tests.support.users import UserClient


def sync(user: UserClient, since: str | None = None, limit: int | None = None, status: int = 200) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    response = user.client.get(f"/api/{user.user_id}/sync", params=params, headers=user.headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def database(url: str) -> Iterator[Connection]:
    engine = create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def insert_list(connection: Connection, user_id: str, name: str) -> int:
    list_id: int = connection.execute(
        text("INSERT INTO lists (user_id, name) VALUES (:u, :n) RETURNING id"), {"u": user_id, "n": name}
    ).scalar_one()
    return list_id


def insert_subtask(connection: Connection, user_id: str, parent_id: int, title: str = "sub") -> int:
    task_id: int = connection.execute(
        text(
            "INSERT INTO tasks (user_id, title, parent_id, list_id) "
            "SELECT user_id, :t, id, list_id FROM tasks WHERE user_id = :u AND id = :p RETURNING id"
        ),
        {"u": user_id, "t": title, "p": parent_id},
    ).scalar_one()
    return task_id


class LocalCopy:
    """What an offline-first client keeps: tasks and lists by id, and the last sync token."""

    def __init__(self) -> None:
        self.tasks: dict[int, dict[str, Any]] = {}
        self.lists: dict[int, dict[str, Any]] = {}
        self.token: str | None = None
        self.pages = 0

    def apply(self, page: dict[str, Any]) -> None:
        assert set(page) == {"tasks", "lists", "deleted_tasks", "deleted_lists", "sync_token", "more"}
        ids = [t["id"] for t in page["tasks"]] + [t["id"] for t in page["deleted_tasks"]]
        assert len(ids) == len(set(ids)), "an entity appears twice in one page"
        for task in page["tasks"]:
            self.tasks[task["id"]] = task
        for gone in page["deleted_tasks"]:
            self.tasks.pop(gone["id"], None)
        for item in page["lists"]:
            self.lists[item["id"]] = item
        for gone in page["deleted_lists"]:
            self.lists.pop(gone["id"], None)
        self.token = page["sync_token"]
        self.pages += 1

    def catch_up(self, user: UserClient, limit: int | None = None) -> None:
        while True:
            page = sync(user, self.token, limit)
            self.apply(page)
            if not page["more"]:
                return

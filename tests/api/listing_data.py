"""The seven tasks the listing tests sort and page through, and their expected orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

BASE = datetime(2024, 1, 1, tzinfo=UTC)
D1 = "2030-01-01T10:00:00Z"
D2 = "2030-01-02T10:00:00Z"
D3 = "2030-01-03T10:00:00Z"

# index: (title, priority, due_at, created_at minutes after BASE, updated_at minutes after BASE)
SORT_ROWS = [
    ("banana", "high", D2, 0, 5),
    ("Apple", "medium", None, 1, 5),
    ("apple", "medium", D1, 1, 3),
    ("cherry", "low", D2, 2, 0),
    ("Banana", "high", None, 2, 3),
    ("date", "medium", D1, 3, 1),
    ("egg", "low", None, 0, 1),
]
# The expected order for each sort, as indexes into SORT_ROWS (ids grow with the index).
EXPECTED_ORDER = {
    "created_at": [0, 6, 1, 2, 3, 4, 5],
    "-created_at": [5, 4, 3, 2, 1, 6, 0],
    "updated_at": [3, 5, 6, 2, 4, 0, 1],
    "-updated_at": [1, 0, 4, 2, 6, 5, 3],
    "due_at": [2, 5, 0, 3, 1, 4, 6],
    "-due_at": [3, 0, 5, 2, 6, 4, 1],
    "priority": [3, 6, 1, 2, 5, 0, 4],
    "-priority": [4, 0, 5, 2, 1, 6, 3],
    "title": [1, 2, 0, 4, 3, 5, 6],
    "-title": [6, 5, 3, 4, 0, 2, 1],
}


def seed_sort_rows(user: Any, engine: Engine) -> list[int]:
    ids = []
    for title, priority, due_at, created, updated in SORT_ROWS:
        task_id = user.create(title=title, priority=priority, due_at=due_at)["id"]
        ids.append(task_id)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE tasks SET created_at = :created, updated_at = :updated WHERE id = :id"),
                {
                    "created": BASE + timedelta(minutes=created),
                    "updated": BASE + timedelta(minutes=updated),
                    "id": task_id,
                },
            )
    assert ids == sorted(ids)
    return ids

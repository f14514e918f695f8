"""Every listing page is an index range scan inside the caller's slice, never a scan plus sort.

The statement is the one the repository builds (captured from `list_tasks`, not rewritten here),
run under EXPLAIN ANALYZE against 20,000 seeded tasks. The plan shape is checked for users with
many more tasks than a page: for a user whose whole slice fits in one page, a bitmap scan plus a
sort of a few dozen rows is as good, and the planner may rightly pick it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from shared.config import normalize_database_url
from shared.models.limits import LIST_LIMIT_DEFAULT
from shared.models.listing import SORT_VALUES, After, Sort, Status, TaskQuery
from shared.repositories import tasks as repo

USERS = 200
TOTAL_TASKS = 20_000
HEAVY_USERS = 10  # users 000-009 hold 1,500 tasks each; the other 190 share the remaining 5,000
TASKS_PER_HEAVY_USER = 1_500
PAGE = LIST_LIMIT_DEFAULT + 1  # the service asks for one more row than it returns
MAX_ROWS_TOUCHED = 300


class CapturingSession:
    """Stands in for the Session only to hand back the statement the repository would run."""

    def __init__(self) -> None:
        self.statements: list[tuple[Any, dict[str, Any] | None]] = []

    def connection(self) -> CapturingSession:
        return self

    def execute(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        self.statements.append((statement, params))
        return []


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def seeded_users(engine: Engine) -> Iterator[list[str]]:
    prefix = f"explain-{uuid.uuid4().hex[:8]}-"
    users = [f"{prefix}{n:03d}" for n in range(USERS)]
    with engine.begin() as connection:
        connection.execute(
            text("""
                INSERT INTO tasks (user_id, title, description, completed, priority, due_at, tags, created_at, updated_at)
                SELECT :prefix || lpad((CASE WHEN g <= :heavy_tasks THEN g % :heavy
                                            ELSE :heavy + g % (:users - :heavy) END)::text, 3, '0'),
                       'Task ' || (g * 7919 % 1000),
                       CASE WHEN g % 4 = 0 THEN 'notes ' || g END,
                       g % 3 = 0,
                       g % 3,
                       CASE WHEN g % 5 <> 0 THEN timestamptz '2030-01-01' + (g % 97) * interval '1 day' END,
                       ARRAY['tag' || (g % 7)],
                       timestamptz '2024-01-01' + (g / 10) * interval '1 minute',
                       timestamptz '2024-06-01' + (g % 500) * interval '1 minute'
                FROM generate_series(1, :count) AS g
            """),
            {
                "prefix": prefix,
                "users": USERS,
                "heavy": HEAVY_USERS,
                "heavy_tasks": HEAVY_USERS * TASKS_PER_HEAVY_USER,
                "count": TOTAL_TASKS,
            },
        )
        connection.execute(text("ANALYZE tasks"))
        counts = connection.execute(
            text("SELECT count(*), count(DISTINCT user_id) FROM tasks WHERE user_id LIKE :pattern"),
            {"pattern": prefix + "%"},
        ).one()
    assert tuple(counts) == (TOTAL_TASKS, USERS)
    yield users
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks WHERE user_id LIKE :pattern"), {"pattern": prefix + "%"})


def page_statement(owner_id: str, query: TaskQuery, after: After | None) -> tuple[Any, dict[str, Any] | None]:
    session = CapturingSession()
    repo.list_tasks(session, owner_id=owner_id, query=query, after=after, limit=PAGE)  # type: ignore[arg-type]
    [statement] = session.statements
    return statement


def explain(engine: Engine, captured: tuple[Any, dict[str, Any] | None]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of exactly the compiled statement and parameters the app would send."""
    with engine.connect() as connection:

        def prefix(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> tuple[str, Any]:
            return "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params

        event.listen(connection, "before_cursor_execute", prefix, retval=True)
        statement, params = captured
        raw = connection.execute(statement, params).cursor  # type: ignore[union-attr]
        (document,) = raw.fetchone()
    plan = document if isinstance(document, list) else json.loads(document)
    return plan[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def index_scan(plan: dict[str, Any]) -> dict[str, Any]:
    types = [node["Node Type"] for node in nodes(plan)]
    assert "Seq Scan" not in types, types
    assert "Sort" not in types and "Incremental Sort" not in types, types
    assert not any(t.startswith("Bitmap") for t in types), types
    scans = [node for node in nodes(plan) if node["Node Type"] == "Index Scan"]
    assert len(scans) == 1, types
    return scans[0]


def rows_touched(scan: dict[str, Any]) -> int:
    return int(
        scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) + scan.get("Rows Removed by Index Recheck", 0)
    )


def expected_index(sort: Sort) -> str:
    name = {
        "created_at": "created",
        "updated_at": "updated",
        "priority": "priority",
        "title": "title",
        "position": "position",
    }
    if sort.field.value == "due_at":
        return "ix_tasks_user_due_desc" if sort.descending else "ix_tasks_user_due_asc"
    return f"ix_tasks_user_{name[sort.field.value]}"


@pytest.mark.parametrize("sort_value", SORT_VALUES)
def test_first_page_of_every_sort_is_an_index_scan_in_the_users_slice(engine, seeded_users, sort_value):
    owner = seeded_users[7]
    sort = Sort.parse(sort_value)
    scan = index_scan(explain(engine, page_statement(owner, TaskQuery(sort=sort), after=None)))
    assert scan["Index Name"].startswith("ix_tasks_user_")
    assert scan["Index Name"] == expected_index(sort)
    assert "user_id" in scan["Index Cond"]
    assert scan["Scan Direction"] == ("Backward" if sort.descending else "Forward")
    assert scan["Actual Rows"] == PAGE
    assert rows_touched(scan) < MAX_ROWS_TOUCHED


@pytest.mark.parametrize("sort_value", SORT_VALUES)
def test_a_later_page_of_every_sort_starts_in_the_index_at_the_cursor(engine, seeded_users, sort_value):
    owner = seeded_users[4]
    sort = Sort.parse(sort_value)
    query = TaskQuery(sort=sort)
    middle = middle_position(engine, owner, query)
    scan = index_scan(explain(engine, page_statement(owner, query, after=middle)))
    assert scan["Index Name"] == expected_index(sort)
    condition = scan["Index Cond"]
    assert "user_id" in condition
    assert "ROW(" in condition, condition
    assert scan["Actual Rows"] == PAGE
    assert rows_touched(scan) < MAX_ROWS_TOUCHED


def middle_position(engine: Engine, owner: str, query: TaskQuery) -> After:
    """The cursor position (sort value, id) of the user's 600th task in this order, as the service stores it."""
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        items = repo.list_tasks(session, owner_id=owner, query=query, after=None, limit=600)  # type: ignore[arg-type]
    last = items[-1]
    if query.sort.field.value == "due_at":
        assert last.task.due_at is not None  # 80% of tasks have a due date, and those come first
    assert last.task.id is not None
    return After(last.sort_source, last.task.id)


def test_a_filtered_page_still_scans_only_the_users_slice(engine, seeded_users):
    owner = seeded_users[9]
    query = TaskQuery(status=Status.pending, sort=Sort.parse("-updated_at"))
    scan = index_scan(explain(engine, page_statement(owner, query, after=None)))
    assert scan["Index Name"] == "ix_tasks_user_updated"
    assert "user_id" in scan["Index Cond"]
    assert scan["Actual Rows"] == PAGE
    assert rows_touched(scan) < MAX_ROWS_TOUCHED

"""sort=position pages are index range scans: within one scope (list and parent named), the
scope's unique position index (ux_tasks_scope_position) read in order, never a scan plus sort;
across scopes, the user's (user_id, position, id) index. The statements are the repository's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from shared.config import normalize_database_url
from shared.models.listing import TOP_LEVEL, After, Sort, TaskQuery
from shared.repositories import tasks as repo
from tests.api.test_explain import MAX_ROWS_TOUCHED, PAGE, explain, nodes, page_statement, rows_touched
from tests.api.test_explain import index_scan as single_index_scan


def index_scan(plan: dict[str, Any]) -> dict[str, Any]:
    """The page's one range scan; a parent's subtasks also look the parent's list up first (an
    InitPlan reading one row by its id)."""
    lookups = [node for node in nodes(plan) if node.get("Parent Relationship") == "InitPlan"]
    for lookup in lookups:
        assert lookup["Node Type"] == "Index Scan" and lookup["Index Name"] in ("tasks_pkey", "tasks_user_id_id_key"), (
            lookup
        )
        assert lookup["Actual Rows"] <= 1
        lookup["Node Type"] = "Parent lookup"
    return single_index_scan(plan)


INBOX_TASKS, LIST_TASKS, SUBTASKS = 1_200, 800, 600


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[dict[str, object]]:
    """One user: inbox tasks, a list's top-level tasks, and one parent's subtasks in that list."""
    owner = f"explain-pos-{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        list_id = connection.execute(
            text("INSERT INTO lists (user_id, name) VALUES (:u, 'L') RETURNING id"), {"u": owner}
        ).scalar_one()
        connection.execute(
            text("INSERT INTO tasks (user_id, title) SELECT :u, 'inbox ' || g FROM generate_series(1, :n) g"),
            {"u": owner, "n": INBOX_TASKS},
        )
        connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, list_id) SELECT :u, 'list ' || g, :l FROM generate_series(1, :n) g"
            ),
            {"u": owner, "l": list_id, "n": LIST_TASKS},
        )
        parent = connection.execute(
            text("SELECT min(id) FROM tasks WHERE user_id = :u AND list_id = :l"), {"u": owner, "l": list_id}
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, list_id, parent_id)"
                " SELECT :u, 'sub ' || g, :l, :p FROM generate_series(1, :n) g"
            ),
            {"u": owner, "l": list_id, "p": parent, "n": SUBTASKS},
        )
        connection.execute(text("ANALYZE tasks"))
    yield {"owner": owner, "list_id": list_id, "parent": parent}
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks WHERE user_id = :u"), {"u": owner})
        connection.execute(text("DELETE FROM lists WHERE user_id = :u"), {"u": owner})


def scopes(seeded: dict[str, object]) -> dict[str, TaskQuery]:
    list_id, parent = int(str(seeded["list_id"])), int(str(seeded["parent"]))
    return {
        "inbox top level": TaskQuery(list_scope=TOP_LEVEL, parent_scope=TOP_LEVEL, sort=Sort.parse("position")),
        "a list's top level": TaskQuery(list_scope=list_id, parent_scope=TOP_LEVEL, sort=Sort.parse("position")),
        "a parent's subtasks": TaskQuery(parent_scope=parent, sort=Sort.parse("position")),
        "descending": TaskQuery(list_scope=TOP_LEVEL, parent_scope=TOP_LEVEL, sort=Sort.parse("-position")),
    }


@pytest.mark.parametrize("name", ["inbox top level", "a list's top level", "descending"])
def test_a_scoped_position_page_is_a_range_scan_of_the_scopes_index(engine, seeded, name):
    owner = str(seeded["owner"])
    query = scopes(seeded)[name]
    scan = index_scan(explain(engine, page_statement(owner, query, after=None)))
    assert scan["Index Name"] == "ux_tasks_scope_position"
    assert "user_id" in scan["Index Cond"] and "COALESCE" in scan["Index Cond"].upper()
    assert scan["Scan Direction"] == ("Backward" if query.sort.descending else "Forward")
    assert scan["Actual Rows"] == PAGE
    assert rows_touched(scan) < MAX_ROWS_TOUCHED
    # a later page starts in the index at the cursor
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        items = repo.list_tasks(session, owner_id=owner, query=query, after=None, limit=300)  # type: ignore[arg-type]
    after = After(repo.cursor_value(items[-1], query), items[-1].id)
    scan = index_scan(explain(engine, page_statement(owner, query, after=after)))
    assert scan["Index Name"] == "ux_tasks_scope_position"
    assert "position" in scan["Index Cond"]
    assert scan["Actual Rows"] == PAGE
    assert rows_touched(scan) < MAX_ROWS_TOUCHED


def test_an_unscoped_position_page_scans_the_users_position_index(engine, seeded):
    owner = str(seeded["owner"])
    scan = index_scan(explain(engine, page_statement(owner, TaskQuery(sort=Sort.parse("position")), after=None)))
    assert scan["Index Name"] == "ix_tasks_user_position"
    assert "user_id" in scan["Index Cond"]
    assert scan["Actual Rows"] == PAGE


def test_a_parents_subtasks_are_read_through_an_index_of_that_parent(engine, seeded):
    """A parent's subtasks are one scope too (the list is read from the parent first). With few
    subtasks per parent the planner may rightly read them by the parent index and sort them: never
    a scan of the user's other tasks."""
    owner = str(seeded["owner"])
    plan = explain(engine, page_statement(owner, scopes(seeded)["a parent's subtasks"], after=None))
    types = [node["Node Type"] for node in nodes(plan)]
    assert "Seq Scan" not in types, types
    used = {node["Index Name"] for node in nodes(plan) if "Index Name" in node}
    assert used - {"tasks_pkey", "tasks_user_id_id_key"} <= {"ux_tasks_scope_position", "ix_tasks_user_parent"}, used
    assert plan["Actual Rows"] == PAGE
    touched = sum(rows_touched(node) for node in nodes(plan) if node["Node Type"].endswith("Scan"))
    assert touched <= SUBTASKS + 2 * PAGE

"""Sync under concurrency: the change counter is commit-ordered, a page is one statement that is a
range scan, and an unchanged poll reads the counter and nothing else."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text

from shared.config import normalize_database_url
from shared.db import get_engine
from shared.repositories import sync as sync_repo
from tests.api.sync_client import LocalCopy, sync
from tests.support.users import UserClient


def test_a_write_that_commits_late_is_never_missed(alice: UserClient, app: Any, migrated_database: str) -> None:
    """Writer A takes its change position and holds its transaction open; writer B writes meanwhile
    (and waits for A: the counter row is locked until A commits); a reader syncs in between and
    after. The reader sees both changes, each once."""
    a, b = alice.create(title="a"), alice.create(title="b")
    start = sync(alice)["sync_token"]
    holder = psycopg2.connect(migrated_database)
    try:
        with holder.cursor() as cursor:  # psycopg2 opens a transaction and keeps it until commit
            cursor.execute("UPDATE tasks SET title = 'A' WHERE user_id = %s AND id = %s", (alice.user_id, a["id"]))
        outcome: dict[str, Any] = {}

        def write_b() -> None:
            with TestClient(app) as other:
                response = other.patch(f"{alice.base}/{b['id']}", json={"title": "B"}, headers=alice.headers)
                outcome["status"] = response.status_code

        writer = threading.Thread(target=write_b)
        writer.start()
        time.sleep(0.3)
        between = sync(alice, start)
        assert between["tasks"] == [] and between["more"] is False
        assert writer.is_alive(), "B must wait for A's position to commit"
        holder.commit()
        writer.join(timeout=10)
        assert outcome == {"status": 200}
    finally:
        holder.close()
    after = sync(alice, between["sync_token"])
    assert [(t["id"], t["title"]) for t in after["tasks"]] == [(a["id"], "A"), (b["id"], "B")]
    assert [t["id"] for t in sync(alice, start)["tasks"]] == [a["id"], b["id"]]
    assert sync(alice, after["sync_token"])["tasks"] == []


def test_a_statement_that_sleeps_after_taking_its_position_is_never_missed(
    alice: UserClient, migrated_database: str
) -> None:
    """The same with the delay inside one statement (as a slow request would have it)."""
    a = alice.create(title="a")
    start = sync(alice)["sync_token"]

    def slow_write() -> None:
        with psycopg2.connect(migrated_database) as connection, connection.cursor() as cursor:
            cursor.execute(
                "WITH w AS (UPDATE tasks SET title = 'slow' WHERE user_id = %s AND id = %s RETURNING id) "
                "SELECT pg_sleep(0.6) FROM w",
                (alice.user_id, a["id"]),
            )
        connection.close()

    writer = threading.Thread(target=slow_write)
    writer.start()
    time.sleep(0.2)
    between = sync(alice, start)
    writer.join(timeout=10)
    later = alice.create(title="later")  # waited for the slow write's position, so it is after it
    after = sync(alice, between["sync_token"])
    assert between["tasks"] == []
    assert [t["id"] for t in after["tasks"]] == [a["id"], later["id"]]


def test_concurrent_writers_and_a_syncing_reader_converge(client: TestClient, app: Any) -> None:
    user = UserClient(client, f"user-{uuid.uuid4().hex[:12]}")
    seeded = [user.create(title=f"seed {n}") for n in range(6)]
    copy = LocalCopy()
    copy.catch_up(user, limit=4)
    stop = threading.Event()
    failures: list[str] = []

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        with TestClient(app) as own:
            mine = [t["id"] for t in seeded]
            for _ in range(20):
                choice = rnd.random()
                if choice < 0.35 or not mine:
                    response = own.post(user.base, json={"title": f"w{seed}"}, headers=user.headers)
                    if response.status_code == 201:
                        mine.append(response.json()["id"])
                elif choice < 0.7:
                    response = own.patch(
                        f"{user.base}/{rnd.choice(mine)}", json={"title": f"e{rnd.random()}"}, headers=user.headers
                    )
                elif choice < 0.85:
                    response = own.patch(f"{user.base}/{rnd.choice(mine)}/complete", headers=user.headers)
                else:
                    victim = mine.pop(rnd.randrange(len(mine)))
                    response = own.delete(f"{user.base}/{victim}", headers=user.headers)
                if response.status_code not in (200, 201, 204, 404):
                    failures.append(response.text)

    def reader() -> None:
        while not stop.is_set():
            copy.catch_up(user, limit=5)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    syncing = threading.Thread(target=reader)
    syncing.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    syncing.join(timeout=60)
    assert failures == []
    copy.catch_up(user, limit=5)
    assert copy.tasks == {t["id"]: t for t in user.request("GET", "?limit=200").json()}
    assert copy.pages > 3


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def busy_user(engine: Engine) -> str:
    """A user with 24,000 changes (tasks, tombstones, lists) among other users' as many. Seeded with
    the write trigger off (this session only), the change positions written as the trigger would."""
    owner = f"sync-explain-{uuid.uuid4().hex[:8]}"
    with engine.connect() as connection:
        connection.execute(text("SET session_replication_role = replica"))
        connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, position, change_seq, deleted_at) "
                "SELECT CASE WHEN g % 2 = 0 THEN :owner ELSE :owner || '-other' || (g % 7) END, 't' || g, "
                "       fi_nth_key(g), g, CASE WHEN g % 10 = 0 THEN now() END "
                "FROM generate_series(1, 40000) AS g"
            ),
            {"owner": owner},
        )
        connection.execute(
            text(
                "INSERT INTO lists (user_id, name, position, change_seq) "
                "SELECT CASE WHEN g % 2 = 0 THEN :owner ELSE :owner || '-other' END, 'l' || g, fi_nth_key(g), 40000 + g "
                "FROM generate_series(1, 8000) AS g"
            ),
            {"owner": owner},
        )
        connection.execute(text("INSERT INTO sync_state (user_id, seq) VALUES (:owner, 48000)"), {"owner": owner})
        connection.execute(text("RESET session_replication_role"))
    with engine.connect() as connection:
        connection.execute(text("ANALYZE tasks; ANALYZE lists; ANALYZE sync_state"))
    return owner


def explain(engine: Engine, owner: str, *, since: int, full: bool, limit: int = 501) -> dict[str, Any]:
    """EXPLAIN ANALYZE of exactly the statement and parameters the repository sends."""
    statement = sync_repo._page(full)
    params = {"owner_id": owner, "since": since, "floor": 2**62, "limit": limit}
    with engine.connect() as connection:

        def prefix(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> tuple[str, Any]:
            return "EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters

        event.listen(connection, "before_cursor_execute", prefix, retval=True)
        raw = connection.execute(statement, params).cursor  # type: ignore[union-attr]
        (document,) = raw.fetchone()
    plan = document if isinstance(document, list) else json.loads(document)
    root: dict[str, Any] = plan[0]["Plan"]
    return root


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans_of(plan: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [n for n in nodes(plan) if n.get("Relation Name") == table and "Scan" in n["Node Type"]]


def current_seq(engine: Engine, owner: str) -> int:
    with engine.connect() as connection:
        seq: int = connection.execute(text("SELECT seq FROM sync_state WHERE user_id = :o"), {"o": owner}).scalar_one()
    return seq


@pytest.mark.parametrize("full", [True, False])
def test_a_page_is_a_range_scan_of_the_change_index(engine: Engine, busy_user: str, full: bool) -> None:
    # Incremental: from the middle of the tasks' changes; the lists' changes all come after them.
    since = 0 if full else 10_000
    plan = explain(engine, busy_user, since=since, full=full)
    rows_read = [n for n in nodes(plan) if n.get("Relation Name") in ("tasks", "lists")]
    assert {n["Node Type"] for n in rows_read} == {"Index Scan"}
    for table, index in (("tasks", "ix_tasks_user_change"), ("lists", "ix_lists_user_change")):
        [scan] = scans_of(plan, table)
        assert (scan["Node Type"], scan["Index Name"]) == ("Index Scan", index)
        # A range scan that stops after a page's worth of rows (a full sync skips its tombstones).
        assert scan["Actual Rows"] <= 501


def test_an_unchanged_poll_reads_the_counter_and_nothing_else(engine: Engine, busy_user: str) -> None:
    plan = explain(engine, busy_user, since=current_seq(engine, busy_user), full=False)
    read = [n for n in nodes(plan) if "Scan" in n["Node Type"] and n.get("Relation Name") and n["Actual Loops"] > 0]
    assert {n["Relation Name"] for n in read} == {"sync_state"}


def test_each_sync_page_is_one_statement(alice: UserClient) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    for n in range(5):
        alice.create(title=f"t{n}")
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        token = sync(alice, limit=2)["sync_token"]
        sync(alice, token, limit=2)
        page = sync(alice, token, limit=10)
        sync(alice, page["sync_token"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 4

"""Concurrent moves: clients moving different tasks to the same spot at the same time all succeed,
with distinct positions. The user's change lock is held by the test while the requests start, so
every one of them is in flight at once and they go through one after the other."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, text

from shared.config import normalize_database_url
from tests.api.order_helpers import move, ordered

WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM sync_state%UPDATE%'"
    " AND pid <> pg_backend_pid()"
)


def moves_while_locked(database_url: str, user: Any, moves: list[tuple[int, int | None]]) -> list[Any]:
    engine = create_engine(normalize_database_url(database_url))
    started = threading.Barrier(len(moves) + 1)

    def run(task: int, after: int | None) -> Any:
        started.wait()
        return move(user, task, after_id=after)

    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SELECT 1 FROM sync_state WHERE user_id = :u FOR UPDATE"), {"u": user.user_id})
            with ThreadPoolExecutor(len(moves)) as pool:
                futures = [pool.submit(run, task, after) for task, after in moves]
                started.wait()
                waiting = 0
                for _ in range(100):  # until every move waits for the lock
                    connection.execute(text("SELECT pg_stat_clear_snapshot()"))  # fresh activity each time
                    waiting = connection.execute(WAITING).scalar_one()
                    if waiting >= len(moves):
                        break
                    time.sleep(0.02)
                assert waiting >= len(moves)
                connection.rollback()  # release: the moves proceed
                return [future.result() for future in futures]
    finally:
        engine.dispose()


def test_two_clients_moving_different_tasks_to_the_same_spot_both_succeed(alice, database_url, configure):
    configure(DB_POOL_SIZE="4")
    a, b, c, d = (alice.create(title=t)["id"] for t in "abcd")
    first, second = moves_while_locked(database_url, alice, [(c, a), (d, a)])
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json()["position"] != second.json()["position"]
    order = ordered(alice)
    assert order[0] == a and order[-1] == b and set(order[1:3]) == {c, d}


def test_many_concurrent_moves_to_one_spot_all_land_in_distinct_positions(alice, database_url, configure):
    configure(DB_POOL_SIZE="6")
    ids = [alice.create(title=f"t{i}")["id"] for i in range(7)]
    responses = moves_while_locked(database_url, alice, [(task, None) for task in ids[1:]])
    assert [r.status_code for r in responses] == [200] * 6
    keys = [r.json()["position"] for r in responses]
    assert len(set(keys)) == 6
    assert ordered(alice)[-1] == ids[0]
    assert set(ordered(alice)[:6]) == set(ids[1:])

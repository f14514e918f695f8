"""The database misbehaves; the API answers 503 problem+json with Retry-After (never a hang, never
another 5xx) and recovers on the next request. Waits are bounded; the only timing assertions are
generous upper bounds (a prompt 503, not a hang), never a minimum or an exact duration."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg2
import pytest

from tests.support.users import UserClient

# connect_timeout is max(2, DB_CONNECT_TIMEOUT_SECONDS) and a failed connect is retried once:
# 2 x 2 s, plus generous slack for a loaded two-core machine.
UNREACHABLE_BOUND_SECONDS = 20


def _assert_503(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["status"] == 503 and body["request_id"]
    for leak in ("psycopg2", "127.0.0.1", "password", "Traceback", "SELECT", "UPDATE"):
        assert leak not in response.text


def _count_rows(admin: Any, owner: str) -> int:
    with admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (owner,))
        return int(cursor.fetchone()[0])


# --- (a) connections killed between requests ----------------------------------------------------


def test_killed_pooled_connections_are_replaced_transparently(alice, kill_app_backends) -> None:
    created = [alice.create(title=f"t{i}") for i in range(3)]
    for round_ in range(3):
        # Several requests so that more than one pooled connection exists, then kill them all.
        assert all(alice.request("GET", f"/{t['id']}").status_code == 200 for t in created)
        assert kill_app_backends() >= 1
        time.sleep(0.2)  # let the FATAL message reach the sockets (bounded, not asserted)
        for task in created:
            response = alice.request("PATCH", f"/{task['id']}", json={"title": f"r{round_}"})
            assert response.status_code == 200, response.text
        assert alice.request("GET").status_code == 200
        assert alice.request("GET", "/stats").status_code == 200


def test_every_route_survives_a_kill(alice, kill_app_backends) -> None:
    task = alice.create(title="x")
    calls = [
        ("GET", "", None),
        ("GET", "/stats", None),
        ("POST", "", {"title": "y"}),
        ("GET", f"/{task['id']}", None),
        ("PUT", f"/{task['id']}", {"title": "z"}),
        ("PATCH", f"/{task['id']}", {"title": "w"}),
        ("PATCH", f"/{task['id']}/complete", None),
    ]
    for method, path, body in calls:
        alice.request("GET")
        kill_app_backends()
        time.sleep(0.1)
        response = alice.request(method, path, json=body)
        assert response.status_code < 500, (method, path, response.text)
    kill_app_backends()
    time.sleep(0.1)
    assert alice.request("DELETE", f"/{task['id']}").status_code == 204


def test_readiness_recovers_after_a_kill(client, kill_app_backends) -> None:
    assert client.get("/health/ready").status_code == 200
    kill_app_backends()
    time.sleep(0.1)
    assert client.get("/health/ready").status_code == 200


# --- (e) a write is never applied twice --------------------------------------------------------


def test_writes_after_a_kill_are_applied_exactly_once(alice, admin, kill_app_backends) -> None:
    acknowledged = 0
    for i in range(6):
        alice.request("GET")
        kill_app_backends()
        time.sleep(0.1)
        response = alice.request("POST", json={"title": f"once-{i}"})
        if response.status_code == 201:
            acknowledged += 1
        else:
            assert response.status_code == 503, response.text
    assert _count_rows(admin, alice.user_id) == acknowledged
    titles = sorted(t["title"] for t in alice.request("GET").json())
    assert len(titles) == len(set(titles))


def test_idempotent_create_after_a_kill_is_replayed_not_duplicated(alice, admin, kill_app_backends) -> None:
    key = {"Idempotency-Key": "kill-replay-1"}
    first = alice.request("POST", json={"title": "once"}, headers=key)
    assert first.status_code == 201
    kill_app_backends()
    time.sleep(0.1)
    again = alice.request("POST", json={"title": "once"}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert _count_rows(admin, alice.user_id) == 1


def test_toggle_after_a_kill_flips_exactly_once(alice, kill_app_backends) -> None:
    task = alice.create(title="toggle")
    for expected in (True, False, True):
        alice.request("GET")
        kill_app_backends()
        time.sleep(0.1)
        response = alice.request("PATCH", f"/{task['id']}/complete")
        assert response.status_code == 200, response.text
        assert response.json()["completed"] is expected


# --- (b) the database is unreachable -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["closed-port", pytest.param("silent-server", marks=pytest.mark.slow)])
def test_unreachable_database_is_a_prompt_503(client, configure, silent_server, new_user, kind) -> None:
    port = 1 if kind == "closed-port" else silent_server.port
    configure(DATABASE_URL=f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{port}/x", DB_CONNECT_TIMEOUT_SECONDS="1")
    user = UserClient(client, new_user())
    started = time.monotonic()
    for method, path, body in (
        ("GET", "", None),
        ("POST", "", {"title": "x"}),
        ("GET", "/stats", None),
        ("PATCH", "/1", {"title": "y"}),
    ):
        _assert_503(user.request(method, path, json=body))
    _assert_503(client.get("/health/ready"))
    assert time.monotonic() - started < 5 * UNREACHABLE_BOUND_SECONDS
    health = client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.mark.slow
def test_silent_server_503_arrives_within_the_connect_bound(client, configure, silent_server, new_user) -> None:
    configure(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent_server.port}/x", DB_CONNECT_TIMEOUT_SECONDS="1")
    user = UserClient(client, new_user())
    started = time.monotonic()
    _assert_503(user.request("GET"))
    assert time.monotonic() - started < UNREACHABLE_BOUND_SECONDS
    assert silent_server.accepted  # the app really was talking to the silent server


def test_recovers_once_the_database_is_back(client, configure, database_url, new_user) -> None:
    user = UserClient(client, new_user())
    configure(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")
    _assert_503(user.request("GET"))
    configure(DATABASE_URL=database_url)
    assert user.request("GET").status_code == 200
    assert client.get("/health/ready").status_code == 200


# --- (c) statement and lock timeouts -----------------------------------------------------------


def _hold_row_lock(database_url: str, task_id: int) -> tuple[Any, threading.Event]:
    connection = psycopg2.connect(database_url, application_name="tasks-api-faults-locker")
    cursor = connection.cursor()
    cursor.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (task_id,))  # the transaction stays open
    return connection, threading.Event()


@pytest.mark.parametrize(
    ("settings", "what"),
    [
        ({"DB_STATEMENT_TIMEOUT_MS": "5000", "DB_LOCK_TIMEOUT_MS": "300"}, "lock_timeout"),
        ({"DB_STATEMENT_TIMEOUT_MS": "300", "DB_LOCK_TIMEOUT_MS": "5000"}, "statement_timeout"),
    ],
)
def test_write_blocked_past_a_timeout_is_503_and_the_connection_is_reused(
    client, configure, database_url, new_user, settings, what
) -> None:
    """A row locked by another transaction: the app's UPDATE/DELETE waits until lock_timeout
    (SQLSTATE 55P03) or statement_timeout (57014) cancels it. The app maps both to 503 with
    Retry-After; nothing is changed; the same pooled connection (pool size 1) serves the next one."""
    configure(DB_POOL_SIZE="1", **settings)
    user = UserClient(client, new_user())
    task = user.create(title="locked")
    locker, _ = _hold_row_lock(database_url, task["id"])
    try:
        started = time.monotonic()
        for method, path, body in (
            ("PATCH", f"/{task['id']}", {"title": "changed"}),
            ("PUT", f"/{task['id']}", {"title": "changed"}),
            ("PATCH", f"/{task['id']}/complete", None),
            ("DELETE", f"/{task['id']}", None),
        ):
            _assert_503(user.request(method, path, json=body))
        assert time.monotonic() - started < 60
        # Reads do not wait for row locks.
        assert user.request("GET", f"/{task['id']}").json()["title"] == "locked"
    finally:
        locker.rollback()
        locker.close()
    after = user.request("PATCH", f"/{task['id']}", json={"title": "after"})
    assert after.status_code == 200, after.text
    assert after.json()["title"] == "after"
    assert user.request("GET", "/stats").json()["total"] == 1


def test_slow_statement_past_statement_timeout_is_503_then_recovers(client, configure, admin, new_user) -> None:
    """A statement that is slow on its own (an exclusive table lock held elsewhere makes even a
    read wait): statement_timeout cancels it, the client gets 503, the next request is fine."""
    configure(DB_POOL_SIZE="1", DB_STATEMENT_TIMEOUT_MS="300", DB_LOCK_TIMEOUT_MS="0")
    user = UserClient(client, new_user())
    user.create(title="x")
    blocker = psycopg2.connect(admin.dsn, application_name="tasks-api-faults-locker")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        _assert_503(user.request("GET"))
        _assert_503(user.request("GET", "/stats"))
    finally:
        blocker.rollback()
        blocker.close()
    assert user.request("GET").status_code == 200

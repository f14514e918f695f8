"""Idempotency-Key on POST: one task per key and body, replayed for 24 hours, scoped per user."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from shared.config import normalize_database_url

CONCURRENT_REQUESTS = 8


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


@pytest.fixture
def key() -> str:
    return f"key-{uuid.uuid4()}"


def post(user: Any, key: str, body: Any = None, *, content: str | None = None) -> Any:
    headers = {"Idempotency-Key": key}
    if content is not None:
        return user.request("POST", content=content, headers={**headers, "Content-Type": "application/json"})
    return user.request("POST", json=body, headers=headers)


def task_ids(user: Any) -> list[int]:
    response = user.request("GET", params={"limit": 200})
    assert response.status_code == 200
    return [task["id"] for task in response.json()]


def expire(engine: Engine, user_id: str, key: str) -> None:
    with engine.begin() as connection:
        updated = connection.execute(
            text(
                "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = :u AND key = :k"
            ),
            {"u": user_id, "k": key},
        ).rowcount
    assert updated == 1


def stored_keys(engine: Engine, user_ids: list[str]) -> list[tuple[str, str]]:
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT user_id, key FROM idempotency_keys WHERE user_id = ANY(:users) ORDER BY user_id, key"),
            {"users": user_ids},
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


BODY = {"title": "pay rent", "priority": "high", "tags": ["home"], "due_at": "2030-01-01T09:00:00+02:00"}


def test_the_same_key_and_body_replays_the_first_response_and_creates_nothing(alice, key):
    first = post(alice, key, BODY)
    assert first.status_code == 201
    for _ in range(3):
        again = post(alice, key, BODY)
        assert again.status_code == 201
        assert again.json() == first.json()
    assert task_ids(alice) == [first.json()["id"]]


def test_a_replay_returns_the_original_response_after_the_task_was_modified(alice, key):
    first = post(alice, key, BODY)
    task_id = first.json()["id"]
    assert alice.request("PATCH", f"/{task_id}", json={"title": "changed", "priority": "low"}).status_code == 200
    assert alice.request("PATCH", f"/{task_id}/complete").status_code == 200
    again = post(alice, key, BODY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert task_ids(alice) == [task_id]
    assert alice.request("GET", f"/{task_id}").json()["title"] == "changed"


def test_a_replay_returns_the_original_response_after_the_task_was_deleted(alice, key):
    first = post(alice, key, BODY)
    assert alice.request("DELETE", f"/{first.json()['id']}").status_code == 204
    again = post(alice, key, BODY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert task_ids(alice) == []


def test_the_same_json_value_with_other_key_order_and_whitespace_is_the_same_body(alice, key):
    first = post(alice, key, content='{"title":"tidy","priority":"low","tags":["a","b"]}')
    assert first.status_code == 201
    again = post(alice, key, content='{\n  "tags" : [ "a", "b" ],\n\t"priority": "low" ,  "title": "tidy"\n}\n')
    assert again.status_code == 201
    assert again.json() == first.json()
    assert task_ids(alice) == [first.json()["id"]]


@pytest.mark.parametrize(
    "other",
    [
        {**BODY, "title": "pay rent!"},
        {**BODY, "priority": "low"},
        {**BODY, "tags": ["home", "bills"]},
        {**BODY, "tags": ["Home"]},
        {**BODY, "due_at": "2030-01-01T07:00:00Z"},
        {key: value for key, value in BODY.items() if key != "tags"},
        {**BODY, "description": None},
        {**BODY, "completed": False},
    ],
)
def test_the_same_key_with_a_different_body_is_422_and_creates_nothing(alice, key, other):
    first = post(alice, key, BODY)
    assert first.status_code == 201
    response = post(alice, key, other)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 422
    assert task_ids(alice) == [first.json()["id"]]
    assert post(alice, key, BODY).json() == first.json()


def test_keys_are_scoped_per_user(alice, bob, key):
    mine = post(alice, key, BODY)
    theirs = post(bob, key, BODY)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["user_id"] == bob.user_id
    assert task_ids(alice) == [mine.json()["id"]]
    assert task_ids(bob) == [theirs.json()["id"]]
    assert post(bob, key, {"title": "different"}).status_code == 422
    assert post(alice, key, BODY).json() == mine.json()


@pytest.mark.parametrize("invalid", [{"title": ""}, {"title": "x", "priority": "urgent"}, {"title": "x", "bogus": 1}])
def test_a_failed_first_attempt_does_not_claim_the_key(alice, key, invalid):
    assert post(alice, key, invalid).status_code == 422
    assert task_ids(alice) == []
    created = post(alice, key, BODY)
    assert created.status_code == 201
    assert task_ids(alice) == [created.json()["id"]]
    assert post(alice, key, BODY).json() == created.json()


def test_an_expired_key_creates_a_new_task(alice, engine, key):
    first = post(alice, key, BODY)
    expire(engine, alice.user_id, key)
    second = post(alice, key, BODY)
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert task_ids(alice) == [first.json()["id"], second.json()["id"]]
    assert post(alice, key, BODY).json() == second.json()
    assert task_ids(alice) == [first.json()["id"], second.json()["id"]]


def test_an_expired_key_accepts_a_different_body(alice, engine, key):
    first = post(alice, key, BODY)
    expire(engine, alice.user_id, key)
    second = post(alice, key, {"title": "something else"})
    assert second.status_code == 201
    assert second.json()["title"] == "something else"
    assert task_ids(alice) == [first.json()["id"], second.json()["id"]]


def test_a_live_key_is_stored_with_an_expiry_about_24_hours_ahead(alice, engine, key):
    post(alice, key, BODY)
    with engine.begin() as connection:
        hours = connection.execute(
            text(
                "SELECT round(extract(epoch FROM expires_at - created_at) / 3600) FROM idempotency_keys "
                "WHERE user_id = :u AND key = :k"
            ),
            {"u": alice.user_id, "k": key},
        ).scalar_one()
    assert hours == 24


def test_later_keyed_posts_sweep_expired_keys_of_other_users(alice, engine, new_user):
    others = [new_user() for _ in range(3)]
    with engine.begin() as connection:
        for user_id in others:
            connection.execute(
                text(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, response, expires_at) "
                    "VALUES (:u, 'old', :h, '{}'::jsonb, now() - interval '1 hour')"
                ),
                {"u": user_id, "h": "0" * 64},
            )
        connection.execute(
            text(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, response, expires_at) "
                "VALUES (:u, 'live', :h, '{}'::jsonb, now() + interval '1 hour')"
            ),
            {"u": others[0], "h": "0" * 64},
        )
        expired_anywhere = connection.execute(
            text("SELECT count(*) FROM idempotency_keys WHERE expires_at < now()")
        ).scalar_one()
    # Each keyed POST sweeps a bounded batch of expired keys: enough POSTs clear every one of them.
    for n in range(expired_anywhere // 10 + 1):
        assert post(alice, f"sweep-{n}", {"title": f"t{n}"}).status_code == 201
    assert stored_keys(engine, others) == [(others[0], "live")]
    with engine.begin() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM idempotency_keys WHERE expires_at < now()")).scalar_one() == 0
        )


def test_concurrent_duplicates_create_exactly_one_task(alice, engine, key):
    barrier = threading.Barrier(CONCURRENT_REQUESTS)

    def send(_: int) -> Any:
        barrier.wait()
        return post(alice, key, BODY)

    with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
        responses = list(pool.map(send, range(CONCURRENT_REQUESTS)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created = [r.json() for r in responses if r.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id FROM tasks WHERE user_id = :u"), {"u": alice.user_id}).scalars().all()
    assert rows == [created[0]["id"]]
    assert post(alice, key, BODY).json() == created[0]


def test_a_key_of_255_characters_is_accepted_and_256_is_422(alice):
    longest = post(alice, "k" * 255, BODY)
    assert longest.status_code == 201
    too_long = post(alice, "k" * 256, BODY)
    assert too_long.status_code == 422
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert task_ids(alice) == [longest.json()["id"]]


def test_an_empty_key_is_422(alice):
    response = alice.request("POST", json=BODY, headers={"Idempotency-Key": ""})
    assert response.status_code == 422
    assert task_ids(alice) == []


def test_posts_without_a_key_are_never_deduplicated(alice):
    first = alice.request("POST", json=BODY)
    second = alice.request("POST", content=json.dumps(BODY), headers={"Content-Type": "application/json"})
    assert first.status_code == second.status_code == 201
    assert task_ids(alice) == [first.json()["id"], second.json()["id"]]

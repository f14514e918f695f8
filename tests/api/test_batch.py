"""POST /api/{user_id}/tasks/batch: all or nothing, refs, per-operation If-Match, replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from shared.db import get_engine
from shared.models.batch import BATCH_MAX
from tests.api.sync_client import sync
from tests.support.problems import LEAKS, PROBLEM, assert_problem
from tests.support.users import UserClient


def batch(user: UserClient, operations: Any, **kwargs: Any) -> Any:
    return user.request("POST", "/batch", json={"operations": operations}, **kwargs)


def assert_operation_problem(response: Any, status: int, operation: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    expected = {"type", "title", "status", "detail", "request_id", "operation"} | (
        {"errors"} if status == 422 else set()
    )
    assert set(body) == expected
    assert body["status"] == status and body["operation"] == operation
    for leak in LEAKS:
        assert leak not in response.text
    return body


def state(user: UserClient) -> Any:
    return user.request("GET").json()


def test_without_a_token_is_401(alice: UserClient) -> None:
    response = alice.client.post(f"/api/{alice.user_id}/tasks/batch", json={"operations": [{"op": "create"}]})
    assert_problem(response, 401)


def test_another_users_path_is_403(alice: UserClient, bob: UserClient) -> None:
    response = alice.client.post(
        f"/api/{bob.user_id}/tasks/batch", json={"operations": [{"op": "delete", "id": 1}]}, headers=alice.headers
    )
    assert_problem(response, 403)


def test_operations_apply_in_order_and_refs_name_earlier_creates(alice: UserClient) -> None:
    existing = alice.create(title="existing")
    etag = alice.request("GET", f"/{existing['id']}").headers["etag"]
    response = batch(
        alice,
        [
            {"op": "create", "ref": "a", "body": {"title": "first", "tags": ["X", "x"]}},
            {"op": "update", "id": "$a", "body": {"priority": "high"}},
            {"op": "complete", "id": "$a"},
            {"op": "replace", "id": existing["id"], "if_match": etag, "body": {"title": "replaced"}},
            {"op": "create", "body": {"title": "second"}},
            {"op": "complete", "id": existing["id"], "body": {"completed": True}},
            {"op": "delete", "id": "$a"},
        ],
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 200, 200, 201, 200, 204]
    created = results[0]["task"]
    assert created["title"] == "first" and created["tags"] == ["x"]
    assert results[1]["task"]["id"] == created["id"] and results[1]["task"]["priority"] == "high"
    assert results[2]["task"]["completed"] is True and results[2]["task"]["completed_at"] is not None
    assert results[3]["task"]["title"] == "replaced"
    assert results[6] == {"status": 204}
    for result in results[:6]:
        assert set(result) == {"status", "etag", "task"}
    listing = {t["id"]: t for t in state(alice)}
    assert set(listing) == {existing["id"], results[4]["task"]["id"]}
    assert listing[existing["id"]] == results[5]["task"]
    current = alice.request("GET", f"/{existing['id']}").headers["etag"]
    assert results[5]["etag"] == current


def test_a_batch_whose_last_operation_fails_changes_nothing(alice: UserClient) -> None:
    task = alice.create(title="untouched")
    before, token = state(alice), sync(alice)["sync_token"]
    response = batch(
        alice,
        [
            {"op": "create", "ref": "n", "body": {"title": "new"}},
            {"op": "update", "id": task["id"], "body": {"title": "changed"}},
            {"op": "delete", "id": "$n"},
            {"op": "complete", "id": task["id"]},
            {"op": "update", "id": task["id"], "if_match": '"1.999"', "body": {"title": "never"}},
        ],
    )
    body = assert_operation_problem(response, 412, 4)
    assert body["type"] == "urn:tasks-api:problem:precondition-failed"
    assert state(alice) == before
    page = sync(alice, token)
    assert page["tasks"] == [] and page["deleted_tasks"] == [] and page["sync_token"] == token


@pytest.mark.parametrize(
    ("operation", "status"),
    [
        ({"op": "update", "id": 2**62, "body": {"title": "x"}}, 404),
        ({"op": "delete", "id": 0}, 404),
        ({"op": "update", "id": 2**63, "body": {}}, 404),
        ({"op": "update", "id": "$nobody", "body": {}}, 422),
        ({"op": "create", "body": {"title": ""}}, 422),
        ({"op": "create", "body": {"title": "x", "colour": "red"}}, 422),
        ({"op": "create"}, 422),
        ({"op": "create", "id": 5, "body": {"title": "x"}}, 422),
        ({"op": "update", "body": {"title": "x"}}, 422),
        ({"op": "update", "id": "$later", "body": {"title": "x"}}, 422),
        ({"op": "update", "id": 1, "body": {"title": None}}, 422),
        ({"op": "complete", "id": 1, "body": {"completed": "yes"}}, 422),
        ({"op": "delete", "id": 1, "body": {}}, 422),
    ],
)
def test_an_invalid_operation_fails_the_batch_with_its_index(
    alice: UserClient, operation: dict[str, Any], status: int
) -> None:
    before = state(alice)
    ops = [
        {"op": "create", "body": {"title": "fine"}},
        operation,
        {"op": "create", "ref": "later", "body": {"title": "y"}},
    ]
    body = assert_operation_problem(batch(alice, ops), status, 1)
    if status == 422:
        assert all(e["loc"][:3] == ["body", "operations", 1] for e in body["errors"])
    assert state(alice) == before


def test_another_users_task_is_404_for_that_operation(alice: UserClient, bob: UserClient) -> None:
    bobs = bob.create(title="bob's")
    response = batch(alice, [{"op": "create", "body": {"title": "a"}}, {"op": "delete", "id": bobs["id"]}])
    assert_operation_problem(response, 404, 1)
    assert alice.request("GET").json() == []
    assert bob.request("GET", f"/{bobs['id']}").json() == bobs


def test_a_task_deleted_earlier_in_the_batch_is_404_later(alice: UserClient) -> None:
    task = alice.create()
    response = batch(alice, [{"op": "delete", "id": task["id"]}, {"op": "update", "id": task["id"], "body": {}}])
    assert_operation_problem(response, 404, 1)
    assert alice.request("GET", f"/{task['id']}").status_code == 200


def test_if_match_is_written_like_the_header(alice: UserClient) -> None:
    task = alice.create()
    etag = alice.request("GET", f"/{task['id']}").headers["etag"]
    ok = batch(alice, [{"op": "update", "id": task["id"], "if_match": f'"0.1", {etag}', "body": {"title": "a"}}])
    assert ok.status_code == 200, ok.text
    stale = batch(alice, [{"op": "update", "id": task["id"], "if_match": etag, "body": {"title": "b"}}])
    assert_operation_problem(stale, 412, 0)
    weak = batch(alice, [{"op": "delete", "id": task["id"], "if_match": "W/" + ok.json()["results"][0]["etag"]}])
    assert_operation_problem(weak, 412, 0)
    star = batch(
        alice, [{"op": "create", "ref": "c", "body": {"title": "c"}}, {"op": "delete", "id": "$c", "if_match": "*"}]
    )
    assert star.status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"operations": [{"op": "archive", "id": 1}]},
        {"operations": {"op": "create", "body": {"title": "x"}}},
        {"operations": "create"},
        {"operations": []},
        {"operations": [{"op": "create", "body": {"title": "x"}}] * (BATCH_MAX + 1)},
        {"operations": [{"op": "create", "ref": "a", "body": {"title": "x"}}] * 2},
        {"operations": [{"op": "update", "id": 1, "ref": "a", "body": {}}]},
        {"operations": [{"op": "create", "ref": "not a ref!", "body": {"title": "x"}}]},
        {"operations": [{"op": "update", "id": "1", "body": {}}]},
        {"operations": [{"op": "create", "body": ["title"]}]},
        {"operations": [{"op": "create", "body": {"title": "x"}, "extra": 1}]},
        {"ops": []},
    ],
)
def test_a_malformed_batch_is_422_for_the_whole_request(alice: UserClient, payload: Any) -> None:
    assert_problem(alice.request("POST", "/batch", json=payload), 422)
    assert state(alice) == []


def test_a_full_batch_of_100_operations_applies(alice: UserClient) -> None:
    ops = [{"op": "create", "ref": f"t{n}", "body": {"title": f"task {n}"}} for n in range(50)]
    ops += [{"op": "complete", "id": f"$t{n}"} for n in range(50)]
    response = batch(alice, ops)
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == BATCH_MAX
    listing = alice.request("GET", "?limit=200").json()
    assert len(listing) == 50 and all(t["completed"] for t in listing)


def test_an_idempotency_key_replays_the_whole_response(alice: UserClient) -> None:
    ops = [
        {"op": "create", "ref": "a", "body": {"title": "once"}},
        {"op": "update", "id": "$a", "body": {"tags": ["t"]}},
    ]
    first = batch(alice, ops, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 200
    task_id = first.json()["results"][0]["task"]["id"]
    assert alice.request("DELETE", f"/{task_id}").status_code == 204
    replay = batch(alice, ops, headers={"Idempotency-Key": "batch-1"})
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert state(alice) == []
    other = batch(alice, ops[:1], headers={"Idempotency-Key": "batch-1"})
    single = alice.request("POST", json={"title": "once"}, headers={"Idempotency-Key": "batch-1"})
    for reused in (other, single):
        assert reused.status_code == 422
        assert reused.json()["type"] == "urn:tasks-api:problem:idempotency-key-reused"
    assert state(alice) == []


def test_a_failed_keyed_batch_leaves_the_key_usable(alice: UserClient) -> None:
    bad = batch(alice, [{"op": "delete", "id": 1}], headers={"Idempotency-Key": "k"})
    assert bad.status_code == 404
    good = batch(alice, [{"op": "create", "body": {"title": "x"}}], headers={"Idempotency-Key": "k"})
    assert good.status_code == 200 and "idempotent-replayed" not in good.headers


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("size", [1, 10, 100])
def test_a_batch_is_one_statement_whatever_its_size(alice: UserClient, statements: list[str], size: int) -> None:
    tasks = [alice.create(title=f"t{n}") for n in range(size // 2)]
    ops: list[dict[str, Any]] = [{"op": "update", "id": t["id"], "body": {"priority": "low"}} for t in tasks]
    ops += [{"op": "create", "ref": f"r{n}", "body": {"title": "n"}} for n in range(size - len(ops))]
    statements.clear()
    assert batch(alice, ops).status_code == 200
    assert len(statements) == 1
    statements.clear()
    assert batch(alice, ops, headers={"Idempotency-Key": f"rt-{size}"}).status_code == 200
    assert len(statements) == 1

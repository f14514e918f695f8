"""ETags, If-None-Match and If-Match: conditional reads and optimistic concurrency for writes."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

STRONG_ETAG = re.compile(r'^"[\x21\x23-\x7e]+"$')
WRITERS = 8


def strong_etag(response: Any) -> str:
    etag = response.headers["etag"]
    assert STRONG_ETAG.match(etag), etag
    return etag


def read(user: Any, task_id: int) -> Any:
    response = user.request("GET", f"/{task_id}")
    assert response.status_code == 200
    return response


def assert_precondition_failed(response: Any) -> None:
    assert response.status_code == 412, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 412
    assert {"type", "title", "status", "detail", "request_id"} <= set(body)


WRITES = [
    ("PUT", "", {"title": "replaced"}),
    ("PATCH", "", {"title": "patched"}),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
]


def test_every_response_carrying_a_task_has_a_strong_etag_that_moves_with_each_write(alice):
    created = alice.request("POST", json={"title": "first"})
    assert created.status_code == 201
    tags = [strong_etag(created)]
    task_id = created.json()["id"]
    assert strong_etag(read(alice, task_id)) == tags[-1]
    for method, path, body in WRITES:
        response = alice.request(method, f"/{task_id}" + path, json=body)
        assert response.status_code == 200, response.text
        tags.append(strong_etag(response))
        assert strong_etag(read(alice, task_id)) == tags[-1]
    assert len(set(tags)) == len(tags)


def test_a_write_that_changes_no_value_still_moves_the_etag(alice):
    task = alice.create(title="same")
    before = strong_etag(read(alice, task["id"]))
    response = alice.request("PATCH", f"/{task['id']}", json={"title": "same"})
    assert response.status_code == 200
    assert strong_etag(response) != before


def test_if_none_match_with_the_current_etag_is_304_without_a_body(alice):
    task_id = alice.create()["id"]
    etag = strong_etag(read(alice, task_id))
    for header in (etag, f"W/{etag}", f'"0.0", {etag}', f'"other", W/{etag}'):
        response = alice.request("GET", f"/{task_id}", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag


def test_if_none_match_with_an_old_etag_is_200_with_the_task(alice):
    task_id = alice.create(title="old")["id"]
    old = strong_etag(read(alice, task_id))
    assert alice.request("PATCH", f"/{task_id}", json={"title": "new"}).status_code == 200
    for header in (old, f"W/{old}", '"nope"'):
        response = alice.request("GET", f"/{task_id}", headers={"If-None-Match": header})
        assert response.status_code == 200
        assert response.json()["title"] == "new"
        assert strong_etag(response) != old


def test_if_none_match_on_someone_elses_task_is_404(alice, bob):
    task_id = bob.create()["id"]
    etag = strong_etag(read(bob, task_id))
    assert alice.request("GET", f"/{task_id}", headers={"If-None-Match": etag}).status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_if_match_with_the_current_etag_lets_the_write_through(alice, method, path, body):
    task_id = alice.create(title="original")["id"]
    etag = strong_etag(read(alice, task_id))
    response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    assert strong_etag(response) != etag


def test_if_match_with_a_list_containing_the_current_etag_lets_the_write_through(alice):
    task_id = alice.create()["id"]
    etag = strong_etag(read(alice, task_id))
    response = alice.request("PATCH", f"/{task_id}", json={"title": "x"}, headers={"If-Match": f'"1.1", {etag}'})
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), WRITES + [("DELETE", "", None)])
def test_a_stale_if_match_is_412_and_changes_nothing(alice, method, path, body):
    task_id = alice.create(title="original", priority="low", tags=["keep"])["id"]
    stale = strong_etag(read(alice, task_id))
    assert alice.request("PATCH", f"/{task_id}", json={"description": "moved on"}).status_code == 200
    before = read(alice, task_id)
    response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": stale})
    assert_precondition_failed(response)
    after = read(alice, task_id)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES + [("DELETE", "", None)])
def test_a_weak_or_unrelated_if_match_is_412(alice, method, path, body):
    task_id = alice.create(title="original")["id"]
    before = read(alice, task_id)
    etag = strong_etag(before)
    for header in (f"W/{etag}", '"garbage"', '"0.1"'):
        response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": header})
        assert_precondition_failed(response)
    assert read(alice, task_id).json() == before.json()


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_if_match_star_on_an_existing_task_lets_the_write_through(alice, method, path, body):
    task_id = alice.create()["id"]
    response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": "*"})
    assert response.status_code == 200, response.text


def test_delete_with_if_match_star_or_the_current_etag_deletes(alice):
    first = alice.create()["id"]
    second = alice.create()["id"]
    assert alice.request("DELETE", f"/{first}", headers={"If-Match": "*"}).status_code == 204
    etag = strong_etag(read(alice, second))
    response = alice.request("DELETE", f"/{second}", headers={"If-Match": etag})
    assert response.status_code == 204
    assert response.content == b""
    assert alice.request("GET", f"/{first}").status_code == 404
    assert alice.request("GET", f"/{second}").status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES + [("DELETE", "", None)])
def test_if_match_on_someone_elses_task_is_404_and_changes_nothing(alice, bob, method, path, body):
    task_id = bob.create(title="bob's")["id"]
    before = read(bob, task_id)
    for header in (strong_etag(before), "*", '"stale"'):
        response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": header})
        assert response.status_code == 404, header
        assert response.headers["content-type"].startswith("application/problem+json")
    after = read(bob, task_id)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES + [("DELETE", "", None)])
def test_if_match_on_a_deleted_task_is_404(alice, method, path, body):
    task_id = alice.create()["id"]
    etag = strong_etag(read(alice, task_id))
    assert alice.request("DELETE", f"/{task_id}").status_code == 204
    for header in (etag, "*"):
        response = alice.request(method, f"/{task_id}" + path, json=body, headers={"If-Match": header})
        assert response.status_code == 404


def concurrently(user: Any, requests: list[tuple[str, str, Any, dict[str, str]]]) -> list[Any]:
    """Send every request at once from its own thread; the barrier lines them up."""
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, str, Any, dict[str, str]]) -> Any:
        method, path, body, headers = request
        barrier.wait()
        return user.request(method, path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_concurrent_patches_with_the_same_etag_let_exactly_one_through(alice):
    task_id = alice.create(title="start")["id"]
    etag = strong_etag(read(alice, task_id))
    requests = [("PATCH", f"/{task_id}", {"title": f"writer {n}"}, {"If-Match": etag}) for n in range(WRITERS)]
    responses = concurrently(alice, requests)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (WRITERS - 1)
    [winner] = [r for r in responses if r.status_code == 200]
    final = read(alice, task_id)
    assert final.json() == winner.json()
    assert final.headers["etag"] == winner.headers["etag"]
    assert final.json()["title"] in {f"writer {n}" for n in range(WRITERS)}


def test_concurrent_toggles_with_the_same_etag_toggle_exactly_once(alice):
    task_id = alice.create(title="toggle me")["id"]
    etag = strong_etag(read(alice, task_id))
    requests = [("PATCH", f"/{task_id}/complete", None, {"If-Match": etag}) for _ in range(WRITERS)]
    responses = concurrently(alice, requests)
    assert sorted(r.status_code for r in responses) == [200] + [412] * (WRITERS - 1)
    final = read(alice, task_id).json()
    assert final["completed"] is True
    assert final["completed_at"] is not None


def test_concurrent_deletes_with_the_same_etag_delete_once_and_the_rest_are_404(alice):
    task_id = alice.create()["id"]
    etag = strong_etag(read(alice, task_id))
    responses = concurrently(alice, [("DELETE", f"/{task_id}", None, {"If-Match": etag}) for _ in range(WRITERS)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(204) == 1
    assert set(statuses) <= {204, 404}
    assert alice.request("GET", f"/{task_id}").status_code == 404

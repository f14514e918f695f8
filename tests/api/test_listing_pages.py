"""Listing in keyset pages: the Link header, walking every sort, cursor binding and tampering."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, create_engine

from shared.config import normalize_database_url
from tests.api.listing_data import EXPECTED_ORDER, seed_sort_rows

LINK = re.compile(r'^<([^<>]+)>; rel="next"$')


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


def next_url(response: Any) -> str | None:
    header = response.headers.get("link")
    if header is None:
        return None
    match = LINK.match(header)
    assert match, header
    return match.group(1)


def cursor_of(response: Any) -> str:
    url = next_url(response)
    assert url is not None
    return parse_qs(urlsplit(url).query)["cursor"][0]


def walk(user: Any, params: dict[str, Any], between_pages: Any = None) -> list[list[int]]:
    """Every page's ids, following Link until it is gone."""
    pages = []
    response = user.request("GET", params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append([task["id"] for task in response.json()])
        url = next_url(response)
        if url is None:
            return pages
        assert len(pages) < 50, "the Link header never went away"
        if between_pages is not None:
            between_pages(pages)
        response = user.client.get(url, headers=user.headers)


def assert_bad_cursor(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert {"type", "title", "status", "detail", "request_id"} <= set(body)


@pytest.mark.parametrize("limit", [2, 3])
@pytest.mark.parametrize("sort", list(EXPECTED_ORDER))
def test_following_link_walks_every_task_exactly_once_in_order(alice, engine, sort, limit):
    ids = seed_sort_rows(alice, engine)
    pages = walk(alice, {"sort": sort, "limit": limit})
    expected = [ids[i] for i in EXPECTED_ORDER[sort]]
    assert pages == [expected[i : i + limit] for i in range(0, len(expected), limit)]


def test_link_is_present_exactly_when_more_tasks_follow(alice):
    ids = [alice.create(title=f"t{i}")["id"] for i in range(4)]
    exact = alice.request("GET", params={"limit": 4})
    assert [t["id"] for t in exact.json()] == ids
    assert "link" not in exact.headers
    larger = alice.request("GET", params={"limit": 5})
    assert "link" not in larger.headers
    short = alice.request("GET", params={"limit": 3})
    assert next_url(short) is not None
    last = alice.client.get(next_url(short), headers=alice.headers)
    assert [t["id"] for t in last.json()] == ids[3:]
    assert "link" not in last.headers


def test_link_keeps_the_filters_sort_and_limit(alice):
    for i in range(3):
        alice.create(title=f"t{i}", tags=["home"], priority="high")
    response = alice.request("GET", params={"tag": "home", "priority": "high", "sort": "-title", "limit": 1})
    url = urlsplit(next_url(response))
    assert url.path == f"/api/{alice.user_id}/tasks"
    query = parse_qs(url.query)
    assert {k: v for k, v in query.items() if k != "cursor"} == {
        "tag": ["home"],
        "priority": ["high"],
        "sort": ["-title"],
        "limit": ["1"],
    }


SORTS_FOR_CHURN = ["created_at", "-created_at", "title", "-title", "priority", "-priority", "due_at", "-due_at"]


@pytest.mark.parametrize("sort", SORTS_FOR_CHURN)
def test_inserts_and_deletes_between_pages_cause_no_duplicate_and_no_gap(alice, engine, sort):
    ids = seed_sort_rows(alice, engine)
    order = [ids[i] for i in EXPECTED_ORDER[sort]]
    deleted: set[int] = set()
    inserted: list[int] = []

    def churn(pages: list[list[int]]) -> None:
        if len(pages) > 3:
            return  # tasks inserted at the end of the order would otherwise keep the walk going
        seen = {task_id for page in pages for task_id in page}
        # New tasks on both sides of the cursor, with and without due dates, in every priority.
        for title, priority, due_at in (
            ("aaa", "low", "2029-01-01T00:00:00Z"),
            ("zzz", "high", None),
            ("mmm", "medium", "2030-01-02T10:00:00Z"),
        ):
            inserted.append(alice.create(title=title, priority=priority, due_at=due_at)["id"])
        # Delete one task the walk has not reached yet, and one it already returned.
        ahead = [task_id for task_id in order if task_id not in seen and task_id not in deleted]
        behind = [task_id for task_id in order if task_id in seen and task_id not in deleted]
        for victim in ahead[-1:] + behind[:1]:
            assert alice.request("DELETE", f"/{victim}").status_code == 204
            deleted.add(victim)

    pages = walk(alice, {"sort": sort, "limit": 2}, between_pages=churn)
    returned = [task_id for page in pages for task_id in page]
    assert len(returned) == len(set(returned))
    survivors = [task_id for task_id in order if task_id not in deleted]
    assert [task_id for task_id in returned if task_id in set(order)] == [
        task_id for task_id in order if task_id in set(returned)
    ]
    assert set(survivors) <= set(returned)
    assert set(returned) <= set(order) | set(inserted)


def first_page(user: Any, **params: Any) -> Any:
    response = user.request("GET", params={"limit": 2, **params})
    assert response.status_code == 200
    assert next_url(response) is not None
    return response


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_changed_cursors_get_400_problem(alice):
    for i in range(5):
        alice.create(title=f"t{i}")
    cursor = cursor_of(first_page(alice, sort="title"))
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    payload, signature = decoded[:-16], decoded[-16:]  # the layout of shared/cursor.py
    changed = {
        "forged signature": _b64(payload + signature[:-1] + bytes([signature[-1] ^ 1])),
        "forged payload": _b64(payload[:-1] + bytes([payload[-1] ^ 1]) + signature),
        "forged task id": _b64(payload[:1] + bytes([payload[1] ^ 0x80]) + payload[2:] + signature),
        "payload only": _b64(payload),
        "truncated by one": cursor[:-1],
        "truncated to half": cursor[: len(cursor) // 2],
        "garbage": "not-a-cursor",
        "dots": "...",
        "percent junk": "%%%",
        "base64 of junk": _b64(b"\x00\xff junk \xfe"),
        "base64 of junk with a dot": f"{_b64(b'junk')}.{_b64(b'signature')}",
        "base64 of a json list": f"{_b64(b'[1, 2, 3]')}.{_b64(b'0123456789abcdef')}",
    }
    for name, value in changed.items():
        response = alice.request("GET", params={"sort": "title", "limit": 2, "cursor": value})
        assert response.status_code == 400, name
        assert_bad_cursor(response)


def test_a_cursor_from_another_user_is_400(alice, bob):
    for user in (alice, bob):
        for i in range(3):
            user.create(title=f"t{i}")
    cursor = cursor_of(first_page(alice))
    assert_bad_cursor(bob.request("GET", params={"limit": 2, "cursor": cursor}))


@pytest.mark.parametrize(
    "changed",
    [
        {"sort": "-created_at"},
        {"sort": "title"},
        {"status": "pending"},
        {"priority": "medium"},
        {"tag": "home"},
        {"q": "t"},
        {"due_before": "2099-01-01T00:00:00Z"},
        {"due_after": "2000-01-01T00:00:00Z"},
    ],
)
def test_a_cursor_reused_with_other_filters_or_sort_is_400(alice, changed):
    for i in range(4):
        alice.create(title=f"t{i}", tags=["home"], due_at="2050-01-01T00:00:00Z")
    cursor = cursor_of(first_page(alice, sort="created_at"))
    assert_bad_cursor(alice.request("GET", params={"limit": 2, "sort": "created_at", **changed, "cursor": cursor}))


def test_a_cursor_keeps_working_with_the_same_filters_in_another_order(alice):
    ids = [alice.create(title=f"t{i}", tags=["a", "b"], priority="high")["id"] for i in range(4)]
    response = alice.request(
        "GET", params=[("tag", "a"), ("tag", "b"), ("priority", "high"), ("priority", "low"), ("limit", "2")]
    )
    cursor = cursor_of(response)
    again = alice.request(
        "GET",
        params=[
            ("priority", "low"),
            ("priority", "high"),
            ("tag", "B"),
            ("tag", "A"),
            ("limit", "2"),
            ("cursor", cursor),
        ],
    )
    assert again.status_code == 200, again.text
    assert [t["id"] for t in again.json()] == ids[2:]


def test_a_cursor_used_with_a_different_limit_continues_after_the_same_task(alice):
    ids = [alice.create(title=f"t{i}")["id"] for i in range(7)]
    cursor = cursor_of(first_page(alice))
    bigger = alice.request("GET", params={"limit": 3, "cursor": cursor})
    assert bigger.status_code == 200
    assert [t["id"] for t in bigger.json()] == ids[2:5]
    assert next_url(bigger) is not None
    everything = alice.request("GET", params={"limit": 200, "cursor": cursor})
    assert [t["id"] for t in everything.json()] == ids[2:]
    assert "link" not in everything.headers


def test_a_cursor_after_its_task_was_deleted_still_continues(alice):
    ids = [alice.create(title=f"t{i}")["id"] for i in range(5)]
    response = first_page(alice)
    assert alice.request("DELETE", f"/{ids[1]}").status_code == 204
    rest = alice.client.get(next_url(response), headers=alice.headers)
    assert [t["id"] for t in rest.json()] == ids[2:4]


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
def test_a_due_at_page_ending_on_a_task_without_due_date_continues(alice, sort):
    dated = alice.create(title="dated", due_at="2030-01-01T00:00:00Z")["id"]
    undated = [alice.create(title=f"undated {i}")["id"] for i in range(3)]
    expected = [dated] + (undated if sort == "due_at" else undated[::-1])
    first = alice.request("GET", params={"sort": sort, "limit": 2})
    assert [t["id"] for t in first.json()] == expected[:2]
    rest = alice.client.get(next_url(first), headers=alice.headers)
    assert rest.status_code == 200, rest.text
    assert [t["id"] for t in rest.json()] == expected[2:]
    assert "link" not in rest.headers

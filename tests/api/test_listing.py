"""Listing: filters, every sort with its tie-breaking, page size limits and isolation.

Cursor pages and the Link header are in test_listing_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from shared.config import normalize_database_url
from tests.api.listing_data import D1, D2, D3, EXPECTED_ORDER, seed_sort_rows


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(normalize_database_url(database_url), isolation_level="AUTOCOMMIT")
    yield db
    db.dispose()


def listed(user: Any, **params: Any) -> list[int]:
    response = user.request("GET", params=params)
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()]


@pytest.mark.parametrize("sort", list(EXPECTED_ORDER))
def test_every_sort_returns_the_exact_order_with_ties_broken_by_id_in_its_direction(alice, bob, engine, sort):
    ids = seed_sort_rows(alice, engine)
    seed_sort_rows(bob, engine)
    assert listed(alice, sort=sort) == [ids[i] for i in EXPECTED_ORDER[sort]]


def test_default_sort_is_created_at_oldest_first(alice, engine):
    ids = seed_sort_rows(alice, engine)
    assert listed(alice) == [ids[i] for i in EXPECTED_ORDER["created_at"]]


@pytest.mark.parametrize("sort", ["due", "-", "title,id", "+title", "TITLE", "--title", "id"])
def test_unknown_sort_is_422(alice, sort):
    response = alice.request("GET", params={"sort": sort})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_status_filter_selects_pending_or_completed_or_all(alice):
    pending = alice.create(title="pending")["id"]
    done = alice.create(title="done", completed=True)["id"]
    toggled = alice.create(title="toggled")["id"]
    assert alice.request("PATCH", f"/{toggled}/complete").status_code == 200
    assert listed(alice, status="pending") == [pending]
    assert listed(alice, status="completed") == [done, toggled]
    assert listed(alice, status="all") == [pending, done, toggled]
    assert listed(alice) == [pending, done, toggled]
    assert alice.request("GET", params={"status": "open"}).status_code == 422


def test_priority_filter_is_repeatable_and_means_any_of(alice):
    low = alice.create(priority="low")["id"]
    medium = alice.create(priority="medium")["id"]
    high1 = alice.create(priority="high")["id"]
    high2 = alice.create(priority="high")["id"]
    assert listed(alice, priority="high") == [high1, high2]
    assert listed(alice, priority=["low", "high"]) == [low, high1, high2]
    assert listed(alice, priority=["low", "low"]) == [low]
    assert listed(alice, priority=["low", "medium", "high"]) == [low, medium, high1, high2]
    assert alice.request("GET", params={"priority": "urgent"}).status_code == 422


def test_tag_filter_is_repeatable_means_all_of_and_is_normalised(alice):
    home_urgent = alice.create(tags=["Home", "urgent"])["id"]
    home = alice.create(tags=["home"])["id"]
    work_urgent = alice.create(tags=[" WORK ", "Urgent"])["id"]
    alice.create(tags=[])
    assert listed(alice, tag="Home") == [home_urgent, home]
    assert listed(alice, tag="home") == [home_urgent, home]
    assert listed(alice, tag=["home", "URGENT"]) == [home_urgent]
    assert listed(alice, tag="urgent") == [home_urgent, work_urgent]
    assert listed(alice, tag=" Work ") == [work_urgent]
    assert listed(alice, tag=["home", "work"]) == []
    assert listed(alice, tag="missing") == []


def test_q_is_a_case_insensitive_substring_of_title_or_description(alice):
    in_title = alice.create(title="Buy MILK")["id"]
    in_description = alice.create(title="groceries", description="Oat milk and bread")["id"]
    alice.create(title="bread", description="no dairy")
    assert listed(alice, q="milk") == [in_title, in_description]
    assert listed(alice, q="MiLk") == [in_title, in_description]
    assert listed(alice, q="t MIL") == [in_description]
    assert listed(alice, q="cheese") == []


def test_q_treats_percent_underscore_and_backslash_literally(alice):
    percent = alice.create(title="50% off")["id"]
    alice.create(title="500 off")
    underscore = alice.create(title="snake_case")["id"]
    alice.create(title="snakeXcase", description="plain")
    backslash = alice.create(title="C:\\temp")["id"]
    alice.create(title="C:temp")
    assert listed(alice, q="50%") == [percent]
    assert listed(alice, q="%") == [percent]
    assert listed(alice, q="e_c") == [underscore]
    assert listed(alice, q="_") == [underscore]
    assert listed(alice, q="\\") == [backslash]
    assert listed(alice, q=":\\t") == [backslash]


def test_due_before_and_due_after_are_strict_and_skip_tasks_without_due_date(alice):
    first = alice.create(due_at=D1)["id"]
    second = alice.create(due_at=D2)["id"]
    third = alice.create(due_at=D3)["id"]
    alice.create(due_at=None)
    assert listed(alice, due_before=D2) == [first]
    assert listed(alice, due_after=D2) == [third]
    assert listed(alice, due_before="2030-01-02T12:00:00+02:00") == [first]
    assert listed(alice, due_after="2030-01-02T05:00:00-05:00") == [third]
    assert listed(alice, due_after=D1, due_before=D3) == [second]
    assert listed(alice, due_after="2030-01-02T09:59:59.999999Z") == [second, third]
    assert listed(alice, due_before="2030-01-02T10:00:00.000001Z") == [first, second]


@pytest.mark.parametrize("name", ["due_before", "due_after"])
@pytest.mark.parametrize("value", ["2030-01-02T10:00:00", "tomorrow", "2030-13-01T00:00:00Z"])
def test_due_filters_need_an_rfc3339_time_with_offset(alice, name, value):
    response = alice.request("GET", params={name: value})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_filters_combine_with_each_other(alice):
    match = alice.create(title="Pay rent", priority="high", tags=["home"], due_at=D1)["id"]
    alice.create(title="Pay rent", priority="high", tags=["home"], due_at=D1, completed=True)
    alice.create(title="Pay rent", priority="low", tags=["home"], due_at=D1)
    alice.create(title="Pay rent", priority="high", tags=["work"], due_at=D1)
    alice.create(title="Pay rent", priority="high", tags=["home"], due_at=D3)
    alice.create(title="Pay tax", priority="high", tags=["home"], due_at=D1)
    params = {"status": "pending", "priority": ["high", "medium"], "tag": "HOME", "q": "rent", "due_before": D2}
    assert listed(alice, **params) == [match]


def test_unknown_query_parameters_are_ignored(alice):
    ids = [alice.create(title=title)["id"] for title in ("b", "a", "c")]
    assert listed(alice, foo="bar", sort="title", offset="1", page="2") == [ids[1], ids[0], ids[2]]
    assert listed(alice, unknown="1") == ids


def test_another_users_tasks_are_never_listed(alice, bob):
    mine = alice.create(title="shared words", tags=["home"], priority="high", due_at=D1)["id"]
    bob.create(title="shared words", tags=["home"], priority="high", due_at=D1)
    bob.create(title="bob only")
    assert listed(alice) == [mine]
    assert listed(alice, q="shared", tag="home", priority="high", due_before=D2, status="pending") == [mine]
    for sort in EXPECTED_ORDER:
        assert listed(alice, sort=sort) == [mine]


def test_a_user_without_tasks_gets_an_empty_list_and_no_link(alice):
    response = alice.request("GET")
    assert response.status_code == 200
    assert response.json() == []
    assert "link" not in response.headers


def insert_many(engine: Engine, user_id: str, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tasks (user_id, title) SELECT :user, 'task ' || g FROM generate_series(1, :count) AS g"),
            {"user": user_id, "count": count},
        )


def test_limit_defaults_to_100(alice, engine):
    insert_many(engine, alice.user_id, 101)
    response = alice.request("GET")
    assert response.status_code == 200
    assert len(response.json()) == 100
    assert 'rel="next"' in response.headers["link"]


def test_limit_accepts_1_to_200(alice, engine):
    insert_many(engine, alice.user_id, 201)
    everything = alice.request("GET", params={"limit": 200})
    assert len(everything.json()) == 200
    assert 'rel="next"' in everything.headers["link"]
    one = alice.request("GET", params={"limit": 1})
    assert [t["id"] for t in one.json()] == [everything.json()[0]["id"]]
    assert 'rel="next"' in one.headers["link"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "1000", "ten", "1.5"])
def test_limit_outside_1_to_200_is_422(alice, limit):
    alice.create()
    response = alice.request("GET", params={"limit": limit})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 422

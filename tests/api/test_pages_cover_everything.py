"""Issue 10, "pages that must terminate and cover everything": for arbitrary Unicode titles, tags
and due dates, and for every sort and direction, following `Link` returns every task exactly once,
in the order of one unpaged listing, and ends; the longest cursor the service can issue is accepted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.models.limits import CURSOR_MAX, TITLE_MAX
from shared.models.listing import SORT_VALUES
from shared.models.text import normalize_tag
from tests.api.strategies import link_target
from tests.support.tokens import auth

# Where Python's str.lower() and PostgreSQL's lower() part ways, and other case and
# normalisation traps: dotted and dotless i, final sigma, sharp s, combining marks, ligatures,
# the Kelvin and Ohm signs, titlecase digraphs, astral letters.
TRICKY = [
    "İ", "i̇", "I", "ı", "i", "Σ", "σ", "ς", "ΣΑΣ", "σας", "ß", "SS", "ẞ", "ss", "e\u0301", "é", "a\u0308",
    "ä", "ǅ", "ǆ", "ﬁ", "FI", "\u212a", "k", "K", "\u2126", "ω", "𝔘𝔫𝔦", "𐐀", "𐐨", "😀", "a", "A", "z", "_", "0",
]  # fmt: skip
titles = st.one_of(
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
).filter(lambda t: t.strip() != "")
tags = st.lists(st.sampled_from(["İ", "ı", "ς", "ß", "x", "😀"]), max_size=3)
due_pool = [None, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, 0, 0, 0, 1, tzinfo=UTC)]
due_dates = st.one_of(
    st.sampled_from(due_pool),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
)
tasks = st.fixed_dictionaries(
    {"title": titles, "tags": tags, "due_at": due_dates, "priority": st.sampled_from(["low", "medium", "high"])}
)


@pytest.fixture(scope="module")
def http(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def follow(http: TestClient, headers: dict[str, str], url: str, most: int) -> list[int]:
    """Every id on the pages from `url` on, following Link; fails if it takes more than `most` pages."""
    ids: list[int] = []
    for _ in range(most):
        page = http.get(url, headers=headers)
        assert page.status_code == 200, page.text
        ids += [task["id"] for task in page.json()]
        if "link" not in page.headers:
            return ids
        url = link_target(page.headers["link"])
    raise AssertionError(f"still more pages after {most}: {ids}")


def _specs(*titles: str) -> list[dict[str, Any]]:
    return [{"title": t, "tags": ["İ"], "due_at": None, "priority": "medium"} for t in titles]


@settings(max_examples=12, deadline=None)
@given(specs=st.lists(tasks, min_size=1, max_size=6), limit=st.integers(1, 3), tag=st.sampled_from(["İ", "ß", "x"]))
# A word-final capital sigma: Python lowers it to ς, PostgreSQL to σ (the same key for both rows).
@example(specs=_specs("ΑΣ", "ασ", "ΑΣ"), limit=1, tag="İ")
# A dotted capital I: Python lowers it to i + U+0307, PostgreSQL to i.
@example(specs=_specs("İa", "ib", "İc", "id"), limit=1, tag="x")
def test_following_link_returns_every_task_once_in_order_and_ends(
    http: TestClient, specs: list[dict[str, Any]], limit: int, tag: str
) -> None:
    user = f"pages-{uuid.uuid4().hex[:12]}"
    headers = auth(user)
    created = []
    for spec in specs:
        body = {**spec, "due_at": spec["due_at"] and spec["due_at"].isoformat()}
        response = http.post(f"/api/{user}/tasks", json=body, headers=headers)
        assert response.status_code == 201, response.text
        created.append(response.json())
    tagged = {t["id"] for t in created if normalize_tag(tag) in t["tags"]}
    most = len(created) // limit + 2
    for sort in SORT_VALUES:
        whole = http.get(f"/api/{user}/tasks", params={"sort": sort, "limit": 200}, headers=headers)
        assert whole.status_code == 200
        order = [t["id"] for t in whole.json()]
        assert sorted(order) == sorted(t["id"] for t in created), sort
        paged = follow(http, headers, f"/api/{user}/tasks?sort={sort}&limit={limit}", most)
        assert paged == order, sort
        filtered = follow(http, headers, f"/api/{user}/tasks?sort={sort}&limit={limit}&tag={tag}", most)
        assert sorted(filtered) == sorted(tagged) and len(set(filtered)) == len(filtered), sort


@pytest.mark.parametrize("sort", ["title", "-title"])
@pytest.mark.parametrize("char", ["𝔘", "😀", "𐐀"])  # 4 UTF-8 bytes each; `𐐀` has a lower case
def test_the_longest_cursor_the_service_issues_is_accepted(http: TestClient, sort: str, char: str) -> None:
    user = f"pages-{uuid.uuid4().hex[:12]}"
    headers = auth(user)
    titles = [char * TITLE_MAX, char * (TITLE_MAX - 1) + "a", char * TITLE_MAX]
    ids = [http.post(f"/api/{user}/tasks", json={"title": t}, headers=headers).json()["id"] for t in titles]
    page = http.get(f"/api/{user}/tasks", params={"sort": sort, "limit": 1}, headers=headers)
    assert page.status_code == 200
    seen = [t["id"] for t in page.json()]
    while "link" in page.headers:
        url = link_target(page.headers["link"])
        cursor = url.rpartition("cursor=")[2]
        assert len(cursor) <= CURSOR_MAX
        page = http.get(url, headers=headers)
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()]
    assert sorted(seen) == sorted(ids) and len(seen) == 3


def test_the_cursor_bound_is_tight() -> None:
    # A cursor for the longest title is exactly CURSOR_MAX characters: the bound is the real maximum.
    from shared.cursor import encode_cursor
    from shared.models.listing import Sort, TaskQuery

    query = TaskQuery(sort=Sort.parse("title"))
    cursor = encode_cursor(b"k" * 32, owner_id="u", query=query, sort_source="😀" * TITLE_MAX, task_id=2**63 - 1)
    assert len(cursor) == CURSOR_MAX

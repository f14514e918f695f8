"""Issue 10, "responses that break after the write is done": every URL the service emits is a valid
URI that leads back to the same resource, for every subject the contract allows (over HTTP here;
through API Gateway events in tests/functions/test_gateway_urls.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.api.strategies import NAMED_SUBS, assert_valid_uri, encoded_segment, link_target, subs
from tests.support.tokens import auth


@pytest.fixture(scope="module")
def http(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@settings(max_examples=25, deadline=None)
@given(sub=subs, query=st.sampled_from(["", "&q=%25", "&tag=%C3%BC%20x&tag=a%2Bb"]))
@example(sub="用户", query="")
@example(sub="josé", query="")
@example(sub="a%20b", query="&q=%25")
@example(sub="a b", query="")
@example(sub="?#", query="")
def test_location_and_link_lead_back_for_every_sub(http: TestClient, sub: str, query: str) -> None:
    headers = auth(sub)
    base = f"/api/{encoded_segment(sub)}/tasks"
    created, locations = [], []
    for title in ("first %", "second %"):
        response = http.post(base, json={"title": title, "tags": ["ü x", "a+b"]}, headers=headers)
        assert response.status_code == 201, response.text
        location = response.headers["location"]
        assert_valid_uri(location)
        followed = http.get(location, headers=headers)
        assert followed.status_code == 200, followed.text
        assert followed.json() == response.json()
        assert followed.json()["user_id"] == sub
        created.append(response.json()["id"])
        locations.append(location)

    seen = []
    url = f"{base}?limit=1{query}"
    for _ in range(len(created) + 1):
        page = http.get(url, headers=headers)
        assert page.status_code == 200, page.text
        seen += [task["id"] for task in page.json()]
        if "link" not in page.headers:
            break
        url = link_target(page.headers["link"])
    assert "link" not in page.headers
    assert seen == created
    for location in locations:  # and the same URL deletes it (which leaves the user empty again)
        assert http.delete(location, headers=headers).status_code == 204


def test_the_named_subs_are_allowed_subjects() -> None:
    # The named cases above are the ones the issue lists; they stay valid subjects.
    assert all(1 <= len(s) <= 255 and "/" not in s for s in NAMED_SUBS)


def test_a_host_header_that_is_no_authority_gives_a_relative_link(http: TestClient, new_user: Any) -> None:
    user = new_user()
    headers = auth(user)
    for _ in range(2):
        assert http.post(f"/api/{user}/tasks", json={"title": "t"}, headers=headers).status_code == 201
    page = http.get(f"/api/{user}/tasks?limit=1", headers={**headers, "Host": 'evil>; rel="x'})
    assert page.status_code == 200
    target = link_target(page.headers["link"])
    assert target.startswith(f"/api/{user}/tasks?limit=1&cursor=")

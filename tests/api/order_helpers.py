"""Helpers for the lists, subtasks and manual-order tests: a user's lists and task moves."""

from __future__ import annotations

from typing import Any

from tests.support.users import UserClient


def lists_path(user: UserClient, suffix: str = "") -> str:
    return f"/api/{user.user_id}/lists{suffix}"


def list_request(user: UserClient, method: str, suffix: str = "", **kwargs: Any) -> Any:
    headers = {**user.headers, **kwargs.pop("headers", {})}
    return user.client.request(method, lists_path(user, suffix), headers=headers, **kwargs)


def create_list(user: UserClient, name: str) -> dict[str, Any]:
    response = list_request(user, "POST", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def move(user: UserClient, task_id: int, **body: Any) -> Any:
    headers = body.pop("headers", {})
    return user.request("POST", f"/{task_id}/move", json=body, headers=headers)


def ordered(user: UserClient, **params: Any) -> list[int]:
    """Every task of the listing in sort=position order, following the Link pages."""
    ids: list[int] = []
    response = user.request("GET", params={"sort": "position", "limit": 200, **params})
    while True:
        assert response.status_code == 200, response.text
        ids += [task["id"] for task in response.json()]
        link = response.headers.get("link")
        if link is None:
            return ids
        url = link.split(">", 1)[0].lstrip("<")
        response = user.client.get(url, headers=user.headers)


def positions(user: UserClient, **params: Any) -> list[str]:
    response = user.request("GET", params={"sort": "position", "limit": 200, **params})
    assert response.status_code == 200
    return [task["position"] for task in response.json()]

"""A signed-in user's view of the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.tokens import auth


class UserClient:
    """A signed-in user's view of the API: paths are relative to /api/{user}/tasks."""

    def __init__(self, client: TestClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id
        self.headers = auth(user_id)
        self.base = f"/api/{user_id}/tasks"

    def request(self, method: str, path: str = "", **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, self.base + path, headers=headers, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", json={"title": "a task", **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

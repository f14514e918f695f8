"""The edge authorizes exactly the paths of the owned routers, read from their own prefixes."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from functions.api.app import create_app
from functions.api.deps import CurrentOwner, OwnerNotVerified
from functions.api.middleware import EdgeMiddleware, owned_path_head
from tests.support.tokens import auth


@pytest.mark.parametrize(
    ("prefix", "head"), [("/api/{user_id}/tasks", "/api/"), ("/api/v2/{user_id}/tasks", "/api/v2/")]
)
def test_the_owned_head_is_the_prefix_up_to_the_user_id(prefix: str, head: str) -> None:
    assert owned_path_head(prefix) == head


@pytest.mark.parametrize("prefix", ["/api/tasks", "/api/x{user_id}/tasks"])
def test_a_prefix_without_a_user_id_segment_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="user_id"):
        owned_path_head(prefix)


def test_a_versioned_prefix_authorizes_the_segment_after_it() -> None:
    router = APIRouter(prefix="/api/v2/{user_id}/tasks")

    @router.get("")
    async def mine(user_id: str, owner: CurrentOwner) -> dict[str, str]:
        return {"owner": owner}

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(EdgeMiddleware, owned_prefixes=[router.prefix])
    client = TestClient(app)
    assert client.get("/api/v2/alice/tasks", headers=auth("alice")).json() == {"owner": "alice"}
    assert client.get("/api/v2/bob/tasks", headers=auth("alice")).status_code == 403
    assert client.get("/api/v2/alice/tasks").status_code == 401


def test_a_route_outside_the_owned_routers_asking_for_its_owner_is_a_500_not_a_guess(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app()

    @app.get("/elsewhere")
    async def elsewhere(owner: CurrentOwner) -> dict[str, str]:
        return {"owner": owner}

    response = TestClient(app, raise_server_exceptions=False).get("/elsewhere", headers=auth("alice"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    [error] = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert isinstance(error, OwnerNotVerified)

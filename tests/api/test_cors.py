"""CORS for local runs matches the deployed one (template.yaml's HttpApi CorsConfiguration):
the front end's dev server is allowed by default in APP_ENV=local, every route's preflight passes
with the headers clients send, and the response headers a front end reads are exposed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from functions.api import app as app_module
from shared.config import LOCAL_CORS_ORIGIN, Settings
from tests.support.tokens import auth

REPO = Path(__file__).resolve().parents[2]
REQUEST_HEADERS = "authorization, content-type, if-match, if-none-match, idempotency-key"
EXPOSED = {"etag", "location", "link", "retry-after", "www-authenticate", "x-request-id"}


@pytest.fixture
def local_client(configure: Callable[..., None]) -> Iterator[TestClient]:
    """The app as `make run` builds it: APP_ENV=local, CORS_ALLOW_ORIGINS unset."""
    configure(APP_ENV="local", CORS_ALLOW_ORIGINS=None)
    with TestClient(app_module.create_app(), raise_server_exceptions=False) as client:
        yield client


def _routes() -> list[tuple[str, str]]:
    """Every documented operation, with its path parameters filled in."""
    paths = app_module.create_app().openapi()["paths"]
    found = []
    for template, operations in paths.items():
        path = template.replace("{user_id}", "alice").replace("{task_id}", "1")
        found += [(method.upper(), path) for method in operations]
    return found


def test_a_preflight_from_the_local_front_end_succeeds_on_every_route(local_client) -> None:
    routes = _routes()
    paths = {path for _, path in routes}
    assert {"/api/alice/tasks", "/api/alice/tasks/1", "/api/alice/tasks/1/complete", "/health"} <= paths
    assert len(routes) >= 9
    for method, path in routes:
        response = local_client.options(
            path,
            headers={
                "Origin": LOCAL_CORS_ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": REQUEST_HEADERS,
            },
        )
        assert response.status_code == 200, (method, path)
        assert response.headers["access-control-allow-origin"] == LOCAL_CORS_ORIGIN
        allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {h.strip() for h in REQUEST_HEADERS.split(",")} <= allowed, (method, path)
        assert method in response.headers["access-control-allow-methods"].split(", "), (method, path)
        assert response.headers["access-control-max-age"] == "600"


@pytest.mark.parametrize("status", [201, 401])
def test_responses_expose_the_headers_a_front_end_reads(local_client, new_user, status) -> None:
    user = new_user()
    headers = {"Origin": LOCAL_CORS_ORIGIN, **(auth(user) if status == 201 else {})}
    response = local_client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == LOCAL_CORS_ORIGIN
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed == EXPOSED


def test_another_origin_gets_no_cors_headers(local_client) -> None:
    preflight = local_client.options(
        "/api/alice/tasks",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = local_client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("env", "origins"),
    [
        ({"app_env": "local"}, [LOCAL_CORS_ORIGIN]),
        (
            {"app_env": "local", "cors_allow_origins": "https://a.example, http://localhost:5173"},
            ["https://a.example", "http://localhost:5173"],
        ),
        ({"app_env": "test"}, []),
        ({"app_env": "dev", "auth_jwks_url": "https://front.example/api/auth/jwks"}, []),
        ({"app_env": "prod", "auth_jwks_url": "https://front.example/api/auth/jwks"}, []),
    ],
)
def test_the_app_allows_origins_itself_only_where_api_gateway_does_not(env, origins) -> None:
    assert Settings(**env).cors_origins == origins


class _CloudFormationLoader(yaml.SafeLoader):
    pass


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template_cors() -> dict[str, Any]:
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    cors: dict[str, Any] = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    cors["DefaultOrigins"] = template["Parameters"]["AllowedOrigins"]["Default"]
    return cors


def test_the_template_allows_and_exposes_the_same_headers_as_local_runs() -> None:
    cors = _template_cors()
    lower = lambda names: {n.lower() for n in names}  # noqa: E731
    assert lower(cors["AllowHeaders"]) == lower(app_module.CORS_ALLOW_HEADERS)
    assert lower(cors["ExposeHeaders"]) == lower(app_module.CORS_EXPOSE_HEADERS) == EXPOSED
    assert set(cors["AllowMethods"]) == set(app_module.CORS_ALLOW_METHODS)
    assert cors["MaxAge"] == app_module.CORS_MAX_AGE_SECONDS
    assert cors["DefaultOrigins"] == LOCAL_CORS_ORIGIN

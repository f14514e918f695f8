"""Real PostgreSQL for every test: TEST_DATABASE_URL when set, else an embedded server.

The schema is built by the real migrations. The app commits every statement (autocommit), so
tests are isolated the way users are: each test works under its own fresh user ids.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from shared.config import DEVELOPMENT_JWT_SECRET, get_settings, normalize_database_url

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from scripts import devdb

    with tempfile.TemporaryDirectory(prefix="tasks-api-pg-") as data_dir:
        server = devdb.start(Path(data_dir), keep=False)
        yield devdb.url_of(server)
        server.cleanup()


@pytest.fixture(scope="session")
def direct_database_url(database_url: str) -> str:
    """Migrations and DDL go around a pooler, as they do in production."""
    return os.environ.get("TEST_DIRECT_DATABASE_URL") or database_url


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["url"] = normalize_database_url(url)
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture(scope="session", autouse=True)
def migrated_database(database_url: str, direct_database_url: str) -> str:
    from alembic import command

    engine = create_engine(normalize_database_url(direct_database_url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    command.upgrade(alembic_config(direct_database_url), "head")
    return database_url


@pytest.fixture(scope="session", autouse=True)
def test_environment(migrated_database: str) -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AUTH_") or name in ("CURSOR_SECRET", "CORS_ALLOW_ORIGINS"):
            del os.environ[name]
    os.environ.update(APP_ENV="test", DATABASE_URL=migrated_database)
    reset_app_state()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_app_state()


def reset_app_state() -> None:
    """Forget everything built from the settings: they are read once per process otherwise."""
    from functions.api.middleware import reset_verifier
    from shared.db import reset_engine

    get_settings.cache_clear()
    reset_engine()
    reset_verifier()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Change settings for one test: configure(AUTH_ISSUER="https://x")."""

    def apply(**env: str | None) -> None:
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        reset_app_state()

    yield apply
    monkeypatch.undo()
    reset_app_state()


@pytest.fixture(scope="session")
def app() -> Any:
    from functions.api.app import create_app

    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def make_token(sub: str | None, *, secret: str = DEVELOPMENT_JWT_SECRET, lifetime: int = 300, **claims: Any) -> str:
    payload: dict[str, Any] = {"exp": int(time.time()) + lifetime, **claims}
    if sub is not None:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(sub: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub, **claims)}"}


@pytest.fixture
def new_user() -> Callable[[], str]:
    return lambda: f"user-{uuid.uuid4().hex[:12]}"


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


@pytest.fixture
def alice(client: TestClient, new_user: Callable[[], str]) -> UserClient:
    return UserClient(client, new_user())


@pytest.fixture
def bob(client: TestClient, new_user: Callable[[], str]) -> UserClient:
    return UserClient(client, new_user())

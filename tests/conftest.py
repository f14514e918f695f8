"""Real PostgreSQL for every test: TEST_DATABASE_URL's server when set, else an embedded one.

The suite runs in parallel (pytest-xdist, see pyproject.toml): every worker gets a database of its
own on that server, built by the real migrations (tests/support/database.py). The app commits every
statement (autocommit), so tests within a worker are isolated the way users are: each test works
under its own fresh user ids.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.config import get_settings
from tests.support.database import Server, create_migrated, database_name, drop
from tests.support.jwks import JWKSServer
from tests.support.users import UserClient

_run: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    """In the controlling process (or a run without xdist): pick the server, starting the embedded
    one if needed, once for all workers; workers get it through xdist's workerinput."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        _run.update(workerinput["tasks_test_run"])
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        direct = os.environ.get("TEST_DIRECT_DATABASE_URL") or url
    else:
        from scripts import devdb

        data_dir = tempfile.mkdtemp(prefix="tasks-api-pg-")
        embedded = devdb.start(Path(data_dir), keep=False)
        config.add_cleanup(embedded.cleanup)
        url = direct = devdb.url_of(embedded)
    _run.update(url=url, direct_url=direct, run=uuid.uuid4().hex[:8])
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistRun())


class _XdistRun:
    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["tasks_test_run"] = dict(_run)


@pytest.fixture(scope="session")
def worker_database(request: pytest.FixtureRequest) -> Iterator[Server]:
    """This worker's own database on the run's server, at the migrations' head."""
    worker_id = getattr(request.config, "workerinput", {}).get("workerid", "main")
    server = Server(url=_run["url"], direct_url=_run["direct_url"])
    name = database_name(server, _run["run"], worker_id)
    yield create_migrated(server, name)
    drop(server, name)


@pytest.fixture(scope="session")
def database_url(worker_database: Server) -> str:
    return worker_database.url


@pytest.fixture(scope="session")
def direct_database_url(worker_database: Server) -> str:
    """Migrations and DDL go around a pooler, as they do in production."""
    return worker_database.direct_url


@pytest.fixture(scope="session", autouse=True)
def migrated_database(database_url: str) -> str:
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


@pytest.fixture
def new_user() -> Callable[[], str]:
    return lambda: f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def alice(client: TestClient, new_user: Callable[[], str]) -> UserClient:
    return UserClient(client, new_user())


@pytest.fixture
def bob(client: TestClient, new_user: Callable[[], str]) -> UserClient:
    return UserClient(client, new_user())


@pytest.fixture
def jwks_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., JWKSServer]]:
    """start(default=None) starts a JWKS server on loopback (see tests/support/jwks.py); every
    server started is stopped after the test. Proxies are switched off: the app must reach it."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    servers: list[JWKSServer] = []

    def start(default: dict[str, Any] | None = None) -> JWKSServer:
        servers.append(JWKSServer(default).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def jwks_server(jwks_servers: Callable[..., JWKSServer]) -> JWKSServer:
    return jwks_servers()

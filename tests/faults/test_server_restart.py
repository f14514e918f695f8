"""(d) A private embedded PostgreSQL (pgserver) is restarted under the running app."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.database import alembic_config
from tests.support.users import UserClient


@pytest.fixture(scope="module")
def private_server() -> Iterator[Any]:
    pytest.importorskip("pgserver")
    from alembic import command

    from scripts import devdb

    with tempfile.TemporaryDirectory(prefix="tasks-api-restart-") as data_dir:
        server = devdb.start(Path(data_dir), keep=False)
        try:
            command.upgrade(alembic_config(devdb.url_of(server)), "head")
            yield server
        finally:
            server.cleanup()


def _restart(server: Any) -> None:
    from pgserver._commands import pg_ctl

    # `restart` reuses the options the server was started with (socket directory, no TCP).
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)


@pytest.mark.slow
def test_requests_succeed_across_a_server_restart(client, configure, private_server, new_user) -> None:
    from scripts import devdb

    configure(DATABASE_URL=devdb.url_of(private_server))
    user = UserClient(client, new_user())
    task = user.create(title="before restart")
    assert user.request("GET").status_code == 200
    title = "before restart"
    for round_ in range(2):
        _restart(private_server)
        read = user.request("GET", f"/{task['id']}")
        assert read.status_code == 200, read.text
        assert read.json()["title"] == title
        title = f"after restart {round_}"
        written = user.request("PATCH", f"/{task['id']}", json={"title": title})
        assert written.status_code == 200, written.text
        assert client.get("/health/ready").status_code == 200
    created = user.request("POST", json={"title": "second"})
    assert created.status_code == 201
    assert len(user.request("GET").json()) == 2

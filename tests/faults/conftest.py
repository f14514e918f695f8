"""Fault injection helpers: killing the app's own backends, a server that never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import psycopg2
import pytest


@pytest.fixture
def admin(direct_database_url: str) -> Iterator[psycopg2.extensions.connection]:
    """A separate autocommit connection to the test database (not the app's pool), on the direct
    endpoint: it must see the server's backends, not a pooler's."""
    connection = psycopg2.connect(direct_database_url, application_name="tasks-api-faults-admin")
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture
def kill_app_backends(admin, database_url: str, direct_database_url: str) -> Callable[[], int]:
    """Terminate this database's backends that serve the app: those it opened (application_name
    'tasks-api') or, behind a transaction pooler, the pooler's server connections, which carry
    whichever client's name used them last (the test database is the test run's own)."""
    pooled = direct_database_url != database_url

    def kill() -> int:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND (application_name = 'tasks-api' OR %s)",
                (pooled,),
            )
            return int(cursor.fetchone()[0])

    return kill


class SilentServer:
    """Accepts TCP connections on loopback and never says a word: a hung database."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(connection)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.listener.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()

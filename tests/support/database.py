"""One PostgreSQL server per test run, one database per pytest-xdist worker.

The server is TEST_DATABASE_URL's (TEST_DIRECT_DATABASE_URL names the direct endpoint when the
first goes through a pooler), else an embedded one (pgserver) that the controlling process starts
once for all workers. Each worker creates its own database on the direct endpoint, named after the
URL's database, the run and the worker, builds its schema with the migrations (alembic upgrade
head) and drops it at the end: nothing shared is dropped or emptied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.config import normalize_database_url
from tests.support import REPO


@dataclass(frozen=True)
class Server:
    url: str  # what the app connects to (perhaps a pooler)
    direct_url: str  # the server itself: DDL and migrations


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["url"] = normalize_database_url(url)
    config.attributes["configure_logging"] = False
    return config


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def database_name(server: Server, run: str, worker: str) -> str:
    base = make_url(server.direct_url).database or "postgres"
    return f"{base}_{run}_{worker}"[:63]


def create_migrated(server: Server, name: str) -> Server:
    """A fresh database `name` on the server, at the migrations' head; its URLs."""
    from alembic import command

    drop(server, name)
    admin = create_engine(normalize_database_url(server.direct_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    admin.dispose()
    worker = Server(url=with_database(server.url, name), direct_url=with_database(server.direct_url, name))
    command.upgrade(alembic_config(worker.direct_url), "head")
    return worker


def drop(server: Server, name: str) -> None:
    admin = create_engine(normalize_database_url(server.direct_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()

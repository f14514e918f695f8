"""The first request of a fresh process costs the connection plus one round trip (issue 16 item 2).

Counted, not timed: bench/pgproxy.py sits between a fresh handler process and the database and
counts the server's ReadyForQuery messages (one per round trip the client waited for, plus one at
the end of connection startup) and the statements the client sent. SQLAlchemy's stock dialect would
send four more before the first statement (version, current_schema, isolation level,
standard_conforming_strings); shared/dialect.py learns what it needs from the startup reply.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bench.database import counting_proxy
from bench.pgproxy import mark
from shared.config import normalize_database_url
from shared.db import create_db_engine
from shared.dialect import version_tuple
from tests.support import REPO

FIRST_REQUEST = """
import json, sys
from scripts.artifact_smoke import FakeContext, http_v2
from tests.support.tokens import auth
from functions.api.handler import handler
paths = json.loads(sys.argv[1])
for path in paths:
    response = handler(http_v2("GET", path, headers={k.lower(): v for k, v in auth("first-req").items()}), FakeContext())
    assert response["statusCode"] == 200, response
"""


def fresh_process_through_proxy(database_url: str, paths: list[str]) -> dict[str, object]:
    url = make_url(normalize_database_url(database_url))
    with counting_proxy(url) as (proxy_url, control):
        before = mark(control)
        env = {**os.environ, "PYTHONPATH": str(REPO), "APP_ENV": "test"}
        env["DATABASE_URL"] = proxy_url.set(drivername="postgresql").render_as_string(hide_password=False)
        command = [sys.executable, "-c", FIRST_REQUEST, json.dumps(paths)]
        subprocess.run(command, cwd=REPO, env=env, check=True, timeout=120)
        after = mark(control)
    return {
        "round_trips": after["z"] - before["z"],
        "connections": after["connections"] - before["connections"],
        "statements": after["queries"],
    }


def test_first_request_is_connection_plus_one_round_trip(database_url: str) -> None:
    counted = fresh_process_through_proxy(database_url, ["/api/first-req/tasks"])
    assert counted["connections"] == 1
    # One ReadyForQuery ends connection startup, one answers the statement.
    assert counted["round_trips"] == 2, counted
    statements = counted["statements"]
    assert isinstance(statements, list) and len(statements) == 1, statements
    assert "FROM tasks" in statements[0]


def test_later_requests_reuse_the_connection_one_round_trip_each(database_url: str) -> None:
    counted = fresh_process_through_proxy(database_url, ["/api/first-req/tasks", "/api/first-req/tasks/stats"])
    assert counted["connections"] == 1
    assert counted["round_trips"] == 3, counted


def test_dialect_learns_what_the_stock_dialect_queries(database_url: str) -> None:
    """Same server version and string-literal escaping as SQLAlchemy's own first-connect queries,
    whatever server (embedded, a server, PgBouncer) the suite runs against."""
    from shared.config import get_settings

    ours = create_db_engine(get_settings())
    stock = create_engine(normalize_database_url(database_url))
    try:
        with ours.connect(), stock.connect():
            assert ours.dialect.server_version_info == stock.dialect.server_version_info
            assert ours.dialect._backslash_escapes == stock.dialect._backslash_escapes  # type: ignore[attr-defined]
            assert (ours.dialect.name, ours.dialect.driver) == ("postgresql", "psycopg2")
            assert ours.dialect.supports_identity_columns == stock.dialect.supports_identity_columns
    finally:
        ours.dispose()
        stock.dispose()


def test_version_tuple_matches_the_version_string_parse() -> None:
    assert version_tuple(160004) == (16, 4)
    assert version_tuple(180000) == (18, 0)
    assert version_tuple(100023) == (10, 23)
    assert version_tuple(90624) == (9, 6, 24)

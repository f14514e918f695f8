"""Each database failure is named, in the problem's detail and in the log line, and only the ones
that pass are "retry shortly": every cause is produced for real, on a PostgreSQL of this module's
own that listens on loopback TCP without TLS and wants a password from one role."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlalchemy import text

from shared.db_faults import SCHEMA_REVISION
from tests.support import REPO
from tests.support.database import alembic_config
from tests.support.users import UserClient

MISCONFIGURED = "urn:tasks-api:problem:database-misconfigured"
UNAVAILABLE = "urn:tasks-api:problem:database-unavailable"
PASSWORD = "s3cr3t-right"
WRONG = "s3cr3t-wrong"


class TcpPostgres:
    def __init__(self, data_dir: Path) -> None:
        import pgserver
        from pgserver import _commands

        self._pg_ctl = _commands.pg_ctl
        server = pgserver.get_server(data_dir, cleanup_mode=None)  # initdb, as the right OS user
        self.pgdata, self.user = server.pgdata, server.system_user
        self._pg_ctl(["-w", "stop"], pgdata=self.pgdata, user=self.user)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all pwuser 127.0.0.1/32 scram-sha-256\n"  # the one role that needs its password
            "host all all 127.0.0.1/32 trust\n"
        )
        if self.user:
            shutil.chown(hba, self.user)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c ssl=off"
        log = str(self.pgdata / "tcp.log")
        self._pg_ctl(["-w", "-o", options, "-l", log, "start"], pgdata=self.pgdata, user=self.user, timeout=60)

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None, **query: str) -> str:
        credentials = f"{user}:{password}" if password else user
        suffix = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{database}{suffix}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connection.close()

    def stop(self) -> None:
        self._pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self.user)


@pytest.fixture(scope="module")
def pg() -> Iterator[TcpPostgres]:
    root = Path(tempfile.mkdtemp(prefix="tasks-api-faults-"))
    server = TcpPostgres(root / "pg")
    server.execute(
        f"CREATE ROLE pwuser LOGIN PASSWORD '{PASSWORD}'",
        "CREATE DATABASE noschema",
        "CREATE DATABASE behind",
        "CREATE DATABASE migrated",
    )
    from alembic import command

    command.upgrade(alembic_config(server.url("migrated")), "head")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _problem(response: Any, status: int, problem_type: str, *, retry: bool) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ("retry-after" in response.headers) is retry
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type
    for leak in (PASSWORD, WRONG, "pwuser", "127.0.0.1", "Traceback", "psycopg2", "SELECT", "relation"):
        assert leak not in response.text
    return body


def _fault_lines(caplog: Any) -> list[dict[str, Any]]:
    assert not [r for r in caplog.records if r.exc_info], "a named fault is logged without a trace"
    assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]
    lines = []
    for record in caplog.records:
        if record.name == "tasks_api":
            written = record.getMessage() + repr(vars(record))
            assert PASSWORD not in written and WRONG not in written
            if hasattr(record, "cause"):  # the fields travel as record attributes (logging extra)
                lines.append({k: getattr(record, k, None) for k in ("request_id", "event", "error", "cause")})
    return lines


@pytest.fixture
def logged(caplog: Any) -> Any:
    caplog.set_level(logging.INFO, logger="tasks_api")
    return caplog


def _routes(user: UserClient) -> list[Any]:
    return [
        user.request("GET"),
        user.request("POST", json={"title": "x"}),
        user.request("POST", json={"title": "x"}, headers={"Idempotency-Key": "k1"}),
        user.request("GET", "/stats"),
        user.request("GET", "/1"),
        user.request("PATCH", "/1", json={"title": "y"}),
        user.request("DELETE", "/1"),
    ]


@pytest.mark.parametrize(
    ("case", "kind", "words"),
    [
        ("wrong-password", "authentication", "authentication failed"),
        ("unknown-role", "authentication", "authentication failed"),
        ("tls-required", "tls", "TLS"),
        ("no-such-database", "database-missing", "does not exist"),
        ("no-schema", "schema", "make migrate"),
    ],
)
def test_a_misconfigured_database_is_named_and_not_retry_shortly(
    client, configure, new_user, pg, logged, case, kind, words
) -> None:
    url = {
        "wrong-password": pg.url(user="pwuser", password=WRONG),
        "unknown-role": pg.url(user="nobody"),
        "tls-required": pg.url(sslmode="require"),
        "no-such-database": pg.url("nosuchdb"),
        "no-schema": pg.url("noschema"),
    }[case]
    configure(DATABASE_URL=url)
    user = UserClient(client, new_user())
    for response in _routes(user):
        body = _problem(response, 500, MISCONFIGURED, retry=False)
        assert words in body["detail"]
        assert "retry" not in body["detail"]
    ready = _problem(client.get("/health/ready"), 503, MISCONFIGURED, retry=False)
    assert words in ready["detail"]
    lines = _fault_lines(logged)
    assert len(lines) == 8
    assert {line["cause"] for line in lines} == {kind}


def test_the_right_password_works(client, configure, new_user, pg) -> None:
    pg.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO pwuser", database="migrated")
    pg.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO pwuser", database="migrated")
    configure(DATABASE_URL=pg.url("migrated", user="pwuser", password=PASSWORD))
    assert client.get("/health/ready").status_code == 200
    assert UserClient(client, new_user()).request("GET").status_code == 200


@pytest.mark.parametrize("revision", [None, "0000_older"])
def test_a_schema_behind_the_migration_head_makes_readiness_name_make_migrate(client, configure, pg, revision) -> None:
    from alembic import command

    url = pg.url("behind")
    command.upgrade(alembic_config(url), "head")
    if revision is None:
        command.downgrade(alembic_config(url), "base")  # alembic_version stays, with no row
    else:
        pg.execute(f"UPDATE alembic_version SET version_num = '{revision}'", database="behind")
    try:
        configure(DATABASE_URL=url)
        body = _problem(client.get("/health/ready"), 503, MISCONFIGURED, retry=False)
        assert "make migrate" in body["detail"]
        assert SCHEMA_REVISION in body["detail"]
    finally:
        pg.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database="behind")


def test_a_schema_ahead_of_this_code_still_serves_it(client, configure, pg) -> None:
    """Migrations run before a release takes traffic: the previous release keeps serving."""
    from alembic import command

    url = pg.url("behind")
    command.upgrade(alembic_config(url), "head")
    pg.execute("UPDATE alembic_version SET version_num = '9999_next'", database="behind")
    try:
        configure(DATABASE_URL=url)
        assert client.get("/health/ready").status_code == 200
    finally:
        pg.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database="behind")


def test_a_database_at_the_head_is_ready(client, configure, pg) -> None:
    configure(DATABASE_URL=pg.url("migrated"))
    response = client.get("/health/ready")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_closed_port_is_named_unreachable_and_retry_shortly(client, configure, new_user, logged) -> None:
    configure(DATABASE_URL=f"postgresql://postgres:{WRONG}@127.0.0.1:1/x", DB_CONNECT_TIMEOUT_SECONDS="1")
    user = UserClient(client, new_user())
    for response in _routes(user):
        body = _problem(response, 503, UNAVAILABLE, retry=True)
        assert "cannot be reached" in body["detail"]
    _problem(client.get("/health/ready"), 503, UNAVAILABLE, retry=True)
    assert {line["cause"] for line in _fault_lines(logged)} == {"unreachable"}


def test_a_statement_timeout_is_named_timeout(client, configure, admin, new_user, logged) -> None:
    configure(DB_POOL_SIZE="1", DB_STATEMENT_TIMEOUT_MS="300", DB_LOCK_TIMEOUT_MS="0")
    user = UserClient(client, new_user())
    user.create(title="x")
    blocker = psycopg2.connect(admin.dsn, application_name="tasks-api-faults-locker")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        body = _problem(user.request("GET"), 503, UNAVAILABLE, retry=True)
        assert "did not answer in time" in body["detail"]
    finally:
        blocker.rollback()
        blocker.close()
    assert [line["cause"] for line in _fault_lines(logged)] == ["timeout"]
    assert user.request("GET").status_code == 200


def test_an_exhausted_pool_is_503_with_retry_after(client, configure, new_user, logged) -> None:
    """The local server's path (the threadpool, several requests at once): a request that waits past
    the pool timeout (2 x DB_CONNECT_TIMEOUT_SECONDS) for a connection gets 503, not 500."""
    from shared.db import get_engine

    configure(DB_POOL_SIZE="1", DB_CONNECT_TIMEOUT_SECONDS="1")
    user = UserClient(client, new_user())
    assert user.request("GET").status_code == 200
    held = get_engine().connect()  # the pool's only connection, checked out elsewhere
    held.execute(text("SELECT 1"))
    try:
        body = _problem(user.request("GET"), 503, UNAVAILABLE, retry=True)
        assert "every database connection is in use" in body["detail"]
        _problem(user.request("POST", json={"title": "x"}), 503, UNAVAILABLE, retry=True)
    finally:
        held.close()
    assert {line["cause"] for line in _fault_lines(logged)} == {"busy"}
    assert user.request("GET").status_code == 200


def test_the_code_expects_the_migrations_head() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_heads() == [SCHEMA_REVISION]
    assert (REPO / "alembic.ini").exists()

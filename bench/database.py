"""The benchmark's databases: the server, creation, migration, seeding, and the counting proxy."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import URL, make_url

from bench.common import OUT, ROOT, libpq_url, log

APP_TABLES = "tasks, lists, sync_state, idempotency_keys"


@contextlib.contextmanager
def database_server() -> Iterator[URL]:
    """BENCH_DATABASE_URL's server (database name defaults to `bench`), else an embedded one."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        url = make_url(given.replace("postgres://", "postgresql://", 1))
        yield url.set(database=url.database or "bench")
        return
    from scripts import devdb

    log("BENCH_DATABASE_URL is not set: starting an embedded PostgreSQL (pgserver) in bench/out/pgdata")
    server = devdb.start(OUT / "pgdata", keep=True)
    try:
        yield make_url(devdb.url_of(server, "bench"))
    finally:
        server.cleanup()


def connect(url: URL) -> Any:
    connection = psycopg2.connect(libpq_url(url))
    connection.autocommit = True
    return connection


def ensure_database(url: URL) -> None:
    """Create the database if missing, then `alembic upgrade head` (the real migrations)."""
    with contextlib.closing(connect(url.set(database="postgres"))) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{url.database}"')
            log(f"created database {url.database}")
    alembic = Path(sys.executable).parent / "alembic"  # the venv running the benchmark
    command = [str(alembic)] if alembic.exists() else [sys.executable, "-m", "alembic"]
    env = {k: v for k, v in os.environ.items() if k != "DIRECT_DATABASE_URL"}
    env.update(DATABASE_URL=libpq_url(url), APP_ENV="local", PYTHONPATH=str(ROOT))
    done = subprocess.run([*command, "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"alembic upgrade head failed for {url.database}:\n{done.stderr[-2000:]}")


def prepare_bench_database(url: URL) -> None:
    """Every run starts from empty tables, so runs are comparable."""
    ensure_database(url)
    with contextlib.closing(connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {APP_TABLES} RESTART IDENTITY")


def seed_scale(url: URL, rows: int, users: int) -> float:
    """`rows` tasks spread evenly over `users`, seeded once (seconds spent; 0 when reused)."""
    ensure_database(url)
    with contextlib.closing(connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_seed (rows bigint, users int, revision text)")
        cursor.execute("SELECT version_num FROM alembic_version")
        (revision,) = cursor.fetchone()
        cursor.execute("SELECT rows, users, revision FROM bench_seed")
        if cursor.fetchall() == [(rows, users, revision)]:
            cursor.execute("SELECT count(*) FROM tasks")
            if cursor.fetchone()[0] == rows:
                return 0.0
        began = time.perf_counter()
        log(f"seeding {url.database}: {rows:,} tasks across {users:,} users (once; reused by later runs)")
        cursor.execute(f"TRUNCATE {APP_TABLES}, bench_seed RESTART IDENTITY")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        # The write trigger (a change position and a manual-order key per row, each a lookup) would
        # take tens of minutes for 1M rows: off for this bulk load (superuser), with both columns
        # filled as it would (keys in creation order, one change position per row, per user).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            """
            INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at, tags,
                               created_at, updated_at, position, change_seq)
            SELECT 'scale-u' || lpad((g %% %(users)s)::text, 5, '0'), 'task ' || g,
                   CASE WHEN g %% 4 = 0 THEN 'description of task ' || g END,
                   g %% 3 = 0, CASE WHEN g %% 3 = 0 THEN now() END, g %% 3,
                   CASE WHEN g %% 2 = 0 THEN now() + (g %% 1000) * interval '1 hour' END,
                   ARRAY['t' || (g %% 10)],
                   now() - g * interval '1 second', now() - g * interval '1 second',
                   fi_nth_key(g / %(users)s), g / %(users)s + 1
            FROM generate_series(1, %(rows)s) g
            """,
            {"rows": rows, "users": users},
        )
        cursor.execute("INSERT INTO sync_state (user_id, seq) SELECT user_id, max(change_seq) FROM tasks GROUP BY 1")
        cursor.execute("RESET session_replication_role")
        cursor.execute("VACUUM ANALYZE tasks")
        cursor.execute("INSERT INTO bench_seed VALUES (%s, %s, %s)", (rows, users, revision))
        return time.perf_counter() - began


def seed_user(url: URL, prefix: str, count: int) -> str:
    user = f"{prefix}-{uuid.uuid4().hex[:10]}"
    with contextlib.closing(connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tasks (user_id, title, created_at) "
            "SELECT %s, 'cold task ' || g, now() - g * interval '1 s' FROM generate_series(1, %s) g",
            (user, count),
        )
    return user


@contextlib.contextmanager
def counting_proxy(url: URL) -> Iterator[tuple[URL, int]]:
    """bench/pgproxy.py in front of the server: (the URL to reach it, its control port)."""
    host = url.host or url.query.get("host") or "/var/run/postgresql"
    port = url.port or 5432
    upstream = [f"unix:{host}/.s.PGSQL.{port}"] if str(host).startswith("/") else [str(host), str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.pgproxy", *upstream],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout and process.stdin
    ports = json.loads(process.stdout.readline())
    query = {k: v for k, v in url.query.items() if k != "host"}
    query.update(sslmode="disable", gssencmode="disable")  # the proxy reads the protocol in clear
    try:
        yield url.set(host="127.0.0.1", port=ports["port"], query=query), ports["control"]
    finally:
        process.stdin.close()
        process.terminate()
        process.wait(timeout=10)

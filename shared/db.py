"""The engine (one per warm container) and the per-request session.

Built for Neon's pooled endpoint (PgBouncer in transaction mode) and one request at a time:
- autocommit: every repository call is one atomic statement, so no BEGIN/COMMIT round trips;
- no pool_pre_ping (a round trip per request): a dead connection is detected for free by
  looking at its socket at checkout, since a terminated backend leaves it readable (EOF/FATAL);
- timeouts are sent with each statement as ``SET LOCAL`` in the same message: transaction-
  scoped, so nothing outlives the transaction a pooler hands out, and no extra round trip.
"""

from __future__ import annotations

import select
import threading
from typing import Any

import psycopg2
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

from shared.config import Settings, get_settings
from shared.db_faults import is_transient

_engine: Engine | None = None
_engine_lock = threading.Lock()


def _connect_params(settings: Settings, url: str) -> dict[str, Any]:
    """libpq keywords for the URL (Neon's sslmode/channel_binding pass through as they are)."""
    parsed = make_url(url)
    params: dict[str, Any] = parsed.translate_connect_args(username="user", database="dbname")
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    params["connect_timeout"] = max(2, settings.db_connect_timeout_seconds)
    params.setdefault("application_name", "tasks-api")
    return params


def _connect_with_retry(params: dict[str, Any]) -> Any:
    """A suspended Neon compute can take a while to wake: a short timeout plus one retry."""
    try:
        return psycopg2.connect(**params)
    except psycopg2.OperationalError as error:
        if not is_transient(error):  # a wrong password or sslmode fails the same way twice
            raise
        return psycopg2.connect(**params)


def _socket_is_dead(dbapi_connection: Any) -> bool:
    if dbapi_connection.closed:
        return True
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    # An idle connection has nothing to read; anything there is the server saying goodbye.
    return bool(readable)


def create_db_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    connect_params = _connect_params(settings, url)
    engine = create_engine(
        url,
        creator=lambda: _connect_with_retry(connect_params),
        isolation_level="AUTOCOMMIT",
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.db_connect_timeout_seconds * 2,
        pool_pre_ping=False,
        # No hstore probe on the first connection: three round trips (BEGIN, a type lookup,
        # ROLLBACK) for a type the schema does not use.
        use_native_hstore=False,
        # Bound values (titles, descriptions, tags, keys) never appear in SQL logs or error messages.
        hide_parameters=True,
    )
    prefix = (
        f"SET LOCAL statement_timeout = {int(settings.db_statement_timeout_ms)}; "
        f"SET LOCAL lock_timeout = {int(settings.db_lock_timeout_ms)}; "
    )

    @event.listens_for(engine, "checkout")
    def _check_alive(dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        if _socket_is_dead(dbapi_connection):
            raise DisconnectionError("connection closed by the server while idle")

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _with_timeouts(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> tuple[str, Any]:
        if executemany:
            return statement, parameters
        return prefix + statement, parameters

    return engine


def get_engine() -> Engine:
    """The process-wide engine, created on first use (never at import: no network at init)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = create_db_engine(get_settings())
    return _engine


def reset_engine() -> None:
    global _engine
    with _engine_lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None


def open_session() -> Session:
    """A request's own session. Opening and closing it does no I/O: the connection is checked out
    by the first statement, and handing it back sends nothing in autocommit."""
    return Session(get_engine(), expire_on_commit=False)

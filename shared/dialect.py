"""psycopg2's PostgreSQL dialect, initialised from what the server reported at connection startup.

SQLAlchemy initialises its dialect on an engine's first connection with four queries, each a
round trip before the first statement (against Neon: a network trip on every cold start and
every SnapStart restore): ``select pg_catalog.version()``, ``select current_schema()``,
``show transaction isolation level`` and ``show standard_conforming_strings``. PostgreSQL already
sends ``server_version`` and ``standard_conforming_strings`` as ParameterStatus messages in its
startup reply (PgBouncer, Neon's pooler included, relays the server's), and libpq keeps them, so
this dialect reads them from the connection instead; when one is missing it asks the server, as
the stock dialect does. The other two are never used by this engine: it runs in AUTOCOMMIT (the
isolation level it resets to is that one, not the server's default) and it neither reflects nor
uses a schema translation map (where the default schema name is read). Their hooks say "not
known" the way SQLAlchemy defines it (``NotImplementedError``: the attribute is None). Alembic and
the tests build their own engines with the stock dialect.

Registered as ``postgresql+psycopg2_startup``; ``dialect.name`` and ``dialect.driver`` stay
``postgresql`` and ``psycopg2``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

DRIVERNAME = "postgresql+psycopg2_startup"


def version_tuple(server_version: int) -> tuple[int, ...]:
    """libpq's integer server version as the tuple the stock dialect parses from version()."""
    major = server_version // 10000
    if major >= 10:  # 160004 is 16.4
        return (major, server_version % 10000)
    return (major, server_version // 100 % 100, server_version % 100)  # 90624 is 9.6.24


class StartupParameterDialect(PGDialect_psycopg2):
    supports_statement_cache = True

    def _get_server_version_info(self, connection: Any) -> Any:
        reported = getattr(connection.connection.dbapi_connection, "server_version", 0)
        if reported:
            return version_tuple(reported)
        return super()._get_server_version_info(connection)  # type: ignore[no-untyped-call]

    def _set_backslash_escapes(self, connection: Any) -> None:
        reported = connection.connection.dbapi_connection.info.parameter_status("standard_conforming_strings")
        if reported is None:
            super()._set_backslash_escapes(connection)  # type: ignore[no-untyped-call]
        else:
            self._backslash_escapes = reported == "off"

    def _get_default_schema_name(self, connection: Any) -> str:
        raise NotImplementedError  # initialize() then leaves default_schema_name None

    def get_default_isolation_level(self, dbapi_conn: Any) -> Any:
        raise NotImplementedError  # initialize() then leaves default_isolation_level None


registry.register("postgresql.psycopg2_startup", __name__, "StartupParameterDialect")

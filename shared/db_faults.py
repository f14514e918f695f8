"""Database failures by name: which of unreachable / timeout / busy (they pass: 503 with
Retry-After) or authentication / TLS / schema (they do not: DatabaseMisconfigured) an error is.

One small mechanism, used wherever a database error becomes a response (the problem handlers and
the readiness check). Connection failures carry no SQLSTATE (libpq reports them as text), so
those are told apart by libpq's fixed wording; everything else by SQLSTATE. The details are fixed
texts: a driver message can hold the host, the user or SQL, and is never repeated.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.errors import DatabaseMisconfigured, DatabaseUnavailable, DomainError

# The migration head this code runs against (tests check it equals Alembic's head). Migrations
# are expand-only and numbered in order, so a database migrated ahead of this code (a rollout in
# progress: migrations run before the new release takes traffic) still serves it.
SCHEMA_REVISION = "0004"


def schema_serves(revisions: Sequence[str]) -> bool:
    """Whether a database at these Alembic revisions has everything this code needs."""
    return len(revisions) == 1 and revisions[0].isascii() and revisions[0] >= SCHEMA_REVISION


MIGRATE_HINT = "run `make migrate` (alembic upgrade head) against this database"

DETAILS = {
    "unreachable": "the database cannot be reached (refused, unknown host or no answer); retry shortly",
    "timeout": "the database did not answer in time (statement or lock timeout); retry shortly",
    "busy": "every database connection is in use; retry shortly",
    "authentication": "the service cannot sign in to its database (authentication failed): "
    "check the user and password the service is configured with",
    "tls": "the service cannot open a TLS connection to its database: check the sslmode "
    "it is configured with against what the server supports",
    "database-missing": "the database the service is configured with does not exist: create it, then " + MIGRATE_HINT,
    "schema": "the database does not have the tables this service needs: " + MIGRATE_HINT,
}
TRANSIENT = {"unreachable", "timeout", "busy"}

_SQLSTATES = {
    "57014": "timeout",  # query_canceled (statement_timeout)
    "55P03": "timeout",  # lock_not_available (lock_timeout)
    "53300": "busy",  # too_many_connections
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now (starting up)
    "08000": "unreachable",
    "08003": "unreachable",
    "08006": "unreachable",
    "28000": "authentication",  # invalid_authorization_specification
    "28P01": "authentication",  # invalid_password
    "3D000": "database-missing",  # invalid_catalog_name
    "42P01": "schema",  # undefined_table
    "42703": "schema",  # undefined_column
    "42883": "schema",  # undefined_function
    "42704": "schema",  # undefined_object (a type)
    "3F000": "schema",  # invalid_schema_name
}
# libpq's (and PgBouncer's) wording for failures before a session exists, checked in this order.
_MESSAGES = [
    ("SSL SYSCALL error", "unreachable"),  # a TLS connection dropped: the network, not the setup
    ("SSL connection has been closed unexpectedly", "unreachable"),
    ("password authentication failed", "authentication"),
    ("authentication failed", "authentication"),
    ("no password supplied", "authentication"),
    ("no pg_hba.conf entry", "authentication"),
    ("server login has been failing", "authentication"),
    ('role "', "authentication"),  # role "x" does not exist
    ("channel binding", "tls"),
    ("does not support SSL", "tls"),
    ("certificate", "tls"),
    ("SSL", "tls"),
    ('database "', "database-missing"),  # database "x" does not exist
    ("no such database", "database-missing"),
    ("query_wait_timeout", "busy"),
    ("too many connections", "busy"),
    ("timeout expired", "unreachable"),  # connect_timeout
]


_CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError, OperationalError, InterfaceError)


def fault_kind(error: BaseException) -> str | None:
    """The fault's name, or None when the error is not a database fault (a bug: let it be a 500)."""
    if isinstance(error, PoolTimeout):
        return "busy"
    if isinstance(error, DBAPIError):
        error = error.orig if error.orig is not None else error
    code = getattr(error, "pgcode", None)
    if code in _SQLSTATES:
        return _SQLSTATES[code]
    if not isinstance(error, _CONNECTION_ERRORS):
        return None
    message = str(error)
    for needle, kind in _MESSAGES:
        if needle in message:
            return kind
    return "unreachable"  # refused, unknown host, connection lost: the driver's other failures


def is_transient(error: BaseException) -> bool:
    return fault_kind(error) in TRANSIENT


def database_fault(error: BaseException) -> DomainError | None:
    """The domain error to answer with, its cause set, or None for an error that is no fault."""
    kind = fault_kind(error)
    if kind is None:
        return None
    fault: DomainError
    if kind in TRANSIENT:
        fault = DatabaseUnavailable(DETAILS[kind], kind=kind)
    else:
        fault = DatabaseMisconfigured(DETAILS[kind], kind=kind)
    fault.__cause__ = error
    return fault

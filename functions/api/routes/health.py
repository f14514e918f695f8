"""Health checks: no auth; liveness touches nothing, readiness asks the database."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from functions.api.problems import problem_responses
from shared.db import get_engine
from shared.db_faults import MIGRATE_HINT, SCHEMA_REVISION, database_fault, schema_serves
from shared.errors import DatabaseMisconfigured, ServiceUnavailable

router = APIRouter(tags=["health"])


class NotReady(ServiceUnavailable):
    """Readiness is 503 whatever the cause (a probe reads the status); Retry-After only when
    waiting can help: a misconfigured database is not "retry shortly"."""

    slug = "database-misconfigured"

    def __init__(self, detail: str, *, kind: str) -> None:
        super().__init__(detail)
        self.headers = {}
        self.kind = kind


@router.get("/health", operation_id="health")
async def health() -> dict[str, str]:
    """Liveness: the function runs. Touches no database."""
    return {"status": "ok"}


@router.get("/health/ready", operation_id="ready", responses=problem_responses(503))
def ready() -> dict[str, str]:
    """Readiness: the database answers, with the schema at (or, during a rollout, past) this code's migration head."""
    try:
        with get_engine().connect() as connection:
            revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as error:  # any failure to reach it means not ready
        fault = database_fault(error)
        if isinstance(fault, DatabaseMisconfigured):
            raise NotReady(fault.detail, kind=fault.kind) from error
        raise fault or ServiceUnavailable("the database is unreachable") from error
    if not schema_serves(revisions):
        found = ", ".join(revisions) or "none"
        raise NotReady(
            f"the database's schema is at revision {found}, behind {SCHEMA_REVISION}: {MIGRATE_HINT}", kind="schema"
        )
    return {"status": "ok"}

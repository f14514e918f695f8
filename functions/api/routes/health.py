"""Health checks: no auth; liveness touches nothing, readiness asks the database."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from functions.api.problems import problem_responses
from shared.db import get_engine
from shared.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health")
async def health() -> dict[str, str]:
    """Liveness: the function runs. Touches no database."""
    return {"status": "ok"}


@router.get("/health/ready", operation_id="ready", responses=problem_responses(503))
def ready() -> dict[str, str]:
    """Readiness: the database answers."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach it means not ready
        raise ServiceUnavailable("the database is unreachable") from error
    return {"status": "ok"}

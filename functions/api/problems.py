"""RFC 9457 problem+json responses, and the handlers that turn every error into one."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from shared.db_faults import database_fault
from shared.errors import DomainError, InvalidField

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("tasks_api")


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    request_id: str
    errors: list[ValidationIssue] | None = None
    operation: int | None = Field(None, description="A batch's failing operation (its index from 0).")


def problem_type(slug: str | None) -> str:
    return f"urn:tasks-api:problem:{slug}" if slug else "about:blank"


def problem_body(
    status: int,
    detail: str,
    request_id: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    members: dict[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(members or {})
    return json.dumps(body, separators=(",", ":")).encode()


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    members: dict[str, Any] | None = None,
) -> Response:
    request_id = getattr(request.state, "request_id", "-")
    return Response(
        problem_body(status, detail, request_id, slug=slug, title=title, errors=errors, members=members),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _issue(error: dict[str, Any]) -> dict[str, Any]:
    # Never echo the input back: it may be huge or hold something the client should not see in logs.
    return {
        "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_issue(e) for e in exc.errors()]
    return problem(request, 422, "the request is not valid", slug="validation-error", errors=errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The app raises no bare 400 of its own: this is FastAPI failing to decode a body
        # (not UTF-8, nested too deep). To the client that is invalid JSON, like any other.
        errors = [{"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}]
        return problem(request, 422, "the request is not valid", slug="validation-error", errors=errors)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(request, exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path (the router names only the first route's)."""
    methods: set[str] = set()
    routes = list(request.app.router.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI wraps include_router()'s routes
        if included is not None:
            routes.extend(included.routes)
        elif route.matches(request.scope)[0] is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")  # the edge answers HEAD wherever GET is
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return sorted(methods, key=lambda m: order.index(m) if m in order else len(order))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.status >= 500:
        # The client sees only the request id; this line ties it to the cause for the operator.
        # Only the cause's type and name are logged: a driver message can hold SQL or connection
        # details. No trace: a named fault is not a bug.
        request_id = getattr(request.state, "request_id", "-")
        cause = getattr(exc.__cause__, "orig", None) or exc.__cause__
        error = type(cause).__name__ if cause else None
        fields = {"request_id": request_id, "event": exc.slug, "error": error}
        kind = getattr(exc, "kind", None)
        if kind is not None:
            fields["cause"] = kind
        level = logging.ERROR if exc.status == 500 else logging.WARNING
        logger.log(level, "%s (%s)", exc.slug, error, extra=fields)
    errors = exc.errors
    if errors is None and isinstance(exc, InvalidField):
        errors = [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
    return problem(
        request,
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        headers=exc.headers,
        errors=errors,
        members=exc.members,
    )


async def _database_error(request: Request, exc: Exception) -> Response:
    # Named by shared.db_faults: a fault that passes is 503 with Retry-After; authentication, TLS
    # and schema faults are "misconfigured" (500, no retry). Anything else is a bug: re-raised,
    # so the edge logs its trace and answers a bare 500.
    fault = database_fault(exc)
    if fault is None:
        raise exc
    return await _domain_error(request, fault)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

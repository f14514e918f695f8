"""create_app(): routers, error handlers, middleware."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from functions.api.docs import install_docs
from functions.api.middleware import EdgeMiddleware, owned_path_head
from functions.api.openapi import hoist_defs
from functions.api.problems import Problem, install_problem_handlers
from functions.api.routes import batch, health, lists, sync, tasks
from shared.config import get_init_settings

DESCRIPTION = """Each signed-in user's tasks. Send `Authorization: Bearer <JWT>`; the token's `sub`
is the `{user_id}` of every task route. Errors are `application/problem+json` (RFC 9457)."""


BEARER_AUTH = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A JWT from the front end's auth (e.g. Better Auth); its `sub` is the user id.",
}


# The routers whose paths name their owner: the edge authorizes every path under them.
OWNED_PREFIXES = [tasks.router.prefix, lists.router.prefix, sync.router.prefix, batch.router.prefix]

# Kept equal to the HttpApi's CorsConfiguration in template.yaml (a test compares them).
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match"]
CORS_EXPOSE_HEADERS = ["ETag", "Link", "Location", "Retry-After", "WWW-Authenticate", "X-Request-ID"]
CORS_MAX_AGE_SECONDS = 600


def create_app() -> FastAPI:
    # Init reads no secret and opens no connection (SnapStart: restored copies share all of it);
    # the full settings are read on the first request.
    settings = get_init_settings()
    logging.basicConfig(format="%(message)s")  # a no-op on Lambda, whose runtime installs its own
    logging.getLogger("tasks_api").setLevel(settings.log_level.upper())
    # Libraries that would log request paths, SQL and result rows (task content) when the root
    # level is lowered (Lambda's ApplicationLogLevel): the access line is the per-request record.
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "mangum"):
        logging.getLogger(name).setLevel(logging.WARNING)
    app = FastAPI(title="Tasks API", version="1.0.0", description=DESCRIPTION, docs_url=None, redoc_url=None)
    install_docs(app)
    app.include_router(health.router)
    app.include_router(batch.router)
    app.include_router(tasks.router)
    app.include_router(lists.router)
    app.include_router(sync.router)
    install_problem_handlers(app)
    app.add_middleware(EdgeMiddleware, owned_prefixes=OWNED_PREFIXES)
    if settings.cors_origins:
        # Deployed, API Gateway answers CORS (template.yaml, the same lists); this serves local
        # front ends. Outermost, so preflights never reach the token check.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_ALLOW_METHODS,
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=CORS_MAX_AGE_SECONDS,
        )
    _document_problem_schema(app)
    return app


def _document_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            # `errors` is absent, not null, outside validation errors: no default for generators
            # (openapi-typescript makes a property with a default required).
            problem["properties"]["errors"].pop("default", None)
            components.setdefault("schemas", {})["Problem"] = problem
            # The edge middleware verifies tokens (so a bad one is a 401 whatever the body); the
            # requirement is declared here rather than by a per-request security dependency.
            components["securitySchemes"] = {"bearerAuth": BEARER_AUTH}
            heads = tuple(owned_path_head(prefix) for prefix in OWNED_PREFIXES)
            for path, operations in schema["paths"].items():
                if path.startswith(heads):
                    for operation in operations.values():
                        operation["security"] = [{"bearerAuth": []}]
            app.openapi_schema = hoist_defs(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

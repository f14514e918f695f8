"""The warm cost's second floor (issue 16 item 5): FastAPI + Mangum doing the route's SQL.

Per route, a FastAPI app behind Mangum with one catch-all route of the same method, called with the
very events the app gets: it reads the JSON body when there is one, sends the SQL the app sent
(bench.worker.Floor: plain psycopg2, the same messages) and answers the rows as JSON (or 204). What
it lacks against the app is the app's own work: authentication, validation, the ORM, the domain
checks, ETags and problem details. So app / this floor is what the app costs beyond the framework,
and this floor / psycopg2 is what the framework alone costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from mangum import Mangum


def framework_floor(method: str, floor: Any, first_index: int = 0) -> Callable[[dict[str, Any], Any], Any]:
    """floor: a bench.worker.Floor (called with the request index; keeps the last rows and their
    description)."""
    app = FastAPI()
    counter = {"i": first_index}

    @app.api_route("/{path:path}", methods=[method])
    async def route(request: Request, path: str) -> Response:
        if method in ("POST", "PUT", "PATCH") and await request.body():
            await request.json()
        floor(counter["i"])
        counter["i"] += 1
        if floor.description is None:
            return Response(status_code=204)
        names = [column.name for column in floor.description]
        rows = [dict(zip(names, row, strict=True)) for row in floor.rows]
        return Response(json.dumps(rows, default=str), media_type="application/json")

    return Mangum(app, lifespan="off")

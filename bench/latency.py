"""Latency at a database distance (issue 16 item 1), run in the warm worker process.

The counting proxy holds everything the server sends for D ms (bench/pgproxy.py, DELAY), which is
what a database D ms away costs per round trip. Per route and per D: p50/p95 of the handler
in-process, and of the floor (plain psycopg2 through the same proxy, sending the SQL the app sent
for that route at D = 0, so the same round trips). The slope (added latency / D: the number of round
trips a user waits for) is the median over rounds of the least-squares fit within each round, one
request per D sent back to back; the fit of the p50s is kept too. Target: <= 1.1 on every route. The floor's own slope
(1 for one round trip) shows how much of a route's slope is the machine's noise.

ROUTES is the table: one row per route. A row whose path the app does not serve (a route another
issue has not merged yet) or whose setup fails is reported as not measured, with the reason.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2

from bench.pgproxy import mark, set_delay

SLOPE_TARGET = 1.1
RECURRING = {"title": "daily", "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
EDIT = {"title": "edited by the latency bench"}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # under /api/{user}; {task}, {other}, {list}, {recurring} and {fresh} are filled in
    status: int
    serves: str  # the app's route path (FastAPI's, converters dropped) that must exist
    query: str = ""
    body: Callable[[dict[str, Any], int], Any] | None = None
    user: str = "warm"  # "list": the user with 60 tasks


def _batch(size: int) -> Callable[[dict[str, Any], int], Any]:
    return lambda ctx, i: {"operations": [{"op": "create", "body": {"title": f"batch {i}.{n}"}} for n in range(size)]}


ROUTES: list[Route] = [
    Route("create", "POST", "/tasks", 201, "/api/{}/tasks", body=lambda ctx, i: {"title": f"latency {i}"}),
    Route("get", "GET", "/tasks/{task}", 200, "/api/{}/tasks/{}"),
    Route("list", "GET", "/tasks", 200, "/api/{}/tasks", query="limit=50", user="list"),
    Route("list_by_position", "GET", "/tasks", 200, "/api/{}/tasks", query="limit=50&sort=position", user="list"),
    Route("stats", "GET", "/tasks/stats", 200, "/api/{}/tasks/stats"),
    Route("put", "PUT", "/tasks/{task}", 200, "/api/{}/tasks/{}", body=lambda ctx, i: {"title": f"put {i}"}),
    Route("patch", "PATCH", "/tasks/{task}", 200, "/api/{}/tasks/{}", body=lambda ctx, i: EDIT),
    Route("complete", "PATCH", "/tasks/{task}/complete", 200, "/api/{}/tasks/{}/complete"),
    Route("delete", "DELETE", "/tasks/{fresh}", 204, "/api/{}/tasks/{}"),
    Route("move", "POST", "/tasks/{task}/move", 200, "/api/{}/tasks/{}/move", body=lambda ctx, i: {"after_id": None}),
    Route("complete_recurring", "PATCH", "/tasks/{recurring}/complete", 200, "/api/{}/tasks/{}/complete"),
    Route("lists", "GET", "/lists", 200, "/api/{}/lists"),
    Route("sync_page", "GET", "/sync", 200, "/api/{}/sync", query="limit=100", user="list"),
    Route("batch_1", "POST", "/tasks/batch", 200, "/api/{}/tasks/batch", body=_batch(1)),
    Route("batch_100", "POST", "/tasks/batch", 200, "/api/{}/tasks/batch", body=_batch(100)),
]


def served_paths(app: Any) -> set[tuple[str, str]]:
    """(method, path with every parameter written `{}`) for each operation of the app's OpenAPI
    document (FastAPI's public description of what it serves)."""
    served = set()
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            served.add((method.upper(), re.sub(r"\{[^}]*\}", "{}", path)))
    return served


@dataclass
class Sample:
    app: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)


def fit_slope(delays: list[float], values: list[float]) -> float:
    mean_d, mean_v = statistics.fmean(delays), statistics.fmean(values)
    num = sum((d - mean_d) * (v - mean_v) for d, v in zip(delays, values, strict=True))
    return num / sum((d - mean_d) ** 2 for d in delays)


def paired_slope(delays: list[float], series: list[list[float]]) -> float:
    """The median, over rounds, of the slope fitted to one round's requests (one per delay, sent
    back to back): load that drifts between rounds cancels out, an outlier moves one round only."""
    rounds = zip(*series, strict=True)
    return statistics.median(fit_slope([float(d) for d in delays], list(values)) for values in rounds)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def measure(
    handler: Any,
    app: Any,
    make_event: Callable[[str, str, str, str, Any], dict[str, Any]],
    context: dict[str, Any],
    config: dict[str, Any],
) -> dict[str, Any]:
    """context: users ({"warm": (id, headers), "list": ...}), task ids, `fresh()` for deletes,
    `create_recurring()` (returns a task id or raises). config: delays_ms, requests, proxy_control,
    proxy_url."""
    control, delays, requests = config["proxy_control"], config["delays_ms"], config["latency_requests"]
    served = served_paths(app)
    floor_connection = psycopg2.connect(config["proxy_url"])
    floor_connection.autocommit = True
    cursor = floor_connection.cursor()
    set_delay(control, 0)

    def event_for(route: Route, i: int) -> dict[str, Any]:
        user_id, headers = context["users"][route.user]
        fields = {k: context[k] for k in ("task", "other", "recurring") if k in context}
        if "{fresh}" in route.path:
            fields["fresh"] = context["fresh"]()
        path = f"/api/{user_id}" + route.path.format(**fields)
        body = route.body(context, i) if route.body else None
        return make_event(route.method, path, route.query, headers, body)

    def run_app(route: Route, i: int) -> tuple[float, dict[str, Any]]:
        event = event_for(route, i)
        began = time.perf_counter()
        response: dict[str, Any] = handler(event, None)
        elapsed = (time.perf_counter() - began) * 1000
        if response["statusCode"] != route.status:
            raise RuntimeError(f"{route.name}: {response['statusCode']} {response.get('body', '')[:200]}")
        return elapsed, response

    def run_floor(sql: list[str]) -> float:
        began = time.perf_counter()
        for statement in sql:
            cursor.execute(statement)
            if cursor.description is not None:
                cursor.fetchall()
        return (time.perf_counter() - began) * 1000

    results: dict[str, Any] = {}
    active: dict[str, tuple[Route, list[str]]] = {}
    for route in ROUTES:
        if (route.method, route.serves) not in served:
            results[route.name] = {"measured": False, "reason": f"not served: {route.method} {route.serves}"}
            continue
        try:
            if "{recurring}" in route.path and "recurring" not in context:
                context["recurring"] = context["create_recurring"]()
            run_app(route, 0)  # warm-up of this route
            before = mark(control)
            run_app(route, 1)
            after = mark(control)
        except Exception as error:  # a route another issue is still building: reported, not fatal
            results[route.name] = {"measured": False, "reason": str(error)[:300]}
            continue
        active[route.name] = (route, after["queries"])
        results[route.name] = {"measured": True, "round_trips_at_0": after["z"] - before["z"]}
    samples = {(name, d): Sample() for name in active for d in delays}
    index = 2
    # The delays are interleaved request by request (and app with floor), so that the machine's
    # changing load falls on every delay alike: on a shared machine that noise is larger than D.
    for _ in range(requests):
        for name, (route, sql) in active.items():
            for delay in delays:
                set_delay(control, delay)
                elapsed, _response = run_app(route, index)
                samples[name, delay].app.append(elapsed)
                samples[name, delay].floor.append(run_floor(sql))
                index += 1
    set_delay(control, 0)
    floor_connection.close()
    for name in active:
        by_delay = {}
        for delay in delays:
            s = samples[name, delay]
            by_delay[str(delay)] = {
                "p50_ms": statistics.median(s.app),
                "p95_ms": p95(s.app),
                "floor_p50_ms": statistics.median(s.floor),
                "floor_p95_ms": p95(s.floor),
            }
        p50s = [by_delay[str(d)]["p50_ms"] for d in delays]
        s_by_d = [samples[name, d] for d in delays]
        results[name].update(
            by_delay=by_delay,
            slope=paired_slope(delays, [s.app for s in s_by_d]),
            floor_slope=paired_slope(delays, [s.floor for s in s_by_d]),
            slope_of_p50s=fit_slope([float(d) for d in delays], p50s),
            slope_at=[(p - p50s[0]) / d for p, d in zip(p50s, delays, strict=True) if d],
            statements=len(active[name][1]),
        )
        results[name]["met"] = results[name]["slope"] <= SLOPE_TARGET
    return {"delays_ms": delays, "requests": requests, "target": SLOPE_TARGET, "routes": results}

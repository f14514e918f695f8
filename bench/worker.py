"""The warm handler process, run by bench/run.py as `python -m bench.worker PHASE CONFIG_JSON OUT_JSON`.

Phases: `warm` (round trips through the counting proxy, then warm cost against the psycopg2 floor,
memory, and pyinstrument profiles of the routes below target), `coldprofile` (where a fresh process's
first request goes) and `scale` (list latency on the 1k- and 1M-row databases). The real handler
(functions.api.handler.handler) is called in-process with API Gateway HTTP API (payload 2.0) events,
as Lambda calls it in a warm container.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG: dict[str, Any] = json.loads(sys.argv[2]) if __name__ == "__main__" else {}
if CONFIG:  # the settings are read once per process: set them before anything imports the app
    for name in ("DIRECT_DATABASE_URL", "CURSOR_SECRET", "CORS_ALLOW_ORIGINS", "AUTH_JWKS_URL", "AUTH_ISSUER"):
        os.environ.pop(name, None)
    os.environ.pop("AUTH_AUDIENCE", None)
    os.environ.update(
        APP_ENV="dev",
        AUTH_JWT_SECRET=CONFIG["jwt_secret"],
        AWS_LAMBDA_FUNCTION_NAME="tasks-api-bench",  # a pool of one connection, as on Lambda
        AWS_REGION="us-east-1",
        LOG_LEVEL="INFO",  # the template's default: one access-log line per request
        DATABASE_URL=CONFIG.get("proxy_url") or CONFIG["database_url"],
    )

import jwt  # noqa: E402
import psycopg2  # noqa: E402
from scripts.artifact_smoke import FakeContext, http_v2  # noqa: E402

from bench.framework_floor import framework_floor  # noqa: E402
from bench.pgproxy import mark  # noqa: E402
from bench.profiling import counting_thread_hops, inline_threads, summarize  # noqa: E402

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MakeEvent = Callable[[int], dict[str, Any]]
CREATE_BODY = {
    "title": "benchmark task",
    "description": "a task created by the benchmark",
    "priority": "high",
    "tags": ["bench", "perf"],
    "due_at": "2030-01-01T00:00:00Z",
}
PATCH_BODY = {"title": "benchmark task (edited)"}
PUT_BODY = {**CREATE_BODY, "title": "benchmark task (replaced)", "completed": False}
CONTEXT = FakeContext()
ROUND_TRIP_ROUTES = ["create", "create_keyed", "create_keyed_replay", "get", "list"]
ROUND_TRIP_ROUTES += ["put", "patch", "complete", "delete", "stats"]
ROUND_TRIP_ROUTES += ["sync_full", "sync_incremental", "sync_unchanged", "batch_1", "batch_10", "batch_100"]
ROUND_TRIP_ROUTES += ["batch_100_keyed"]
WARM_ROUTES = ["create", "get", "list", "patch", "complete", "delete"]


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 3 * 3600}, CONFIG["jwt_secret"], algorithm="HS256")


class EventFactory:
    """An HTTP API v2 event built once (http_v2 reads a fixture file), then cloned cheaply per
    request, so that the loops time the handler rather than the harness."""

    def __init__(self, method: str, path: str, *, query: str = "", body: Any = None, headers: Any = None) -> None:
        self.template = http_v2(method, path, query=query, body=body, headers=headers)

    def __call__(self, path: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = dict(self.template)
        event["headers"] = {**self.template["headers"], **(headers or {})}
        context = dict(event["requestContext"])
        context["http"] = dict(context["http"])
        event["requestContext"] = context
        if path is not None:
            event["rawPath"] = context["http"]["path"] = path
            event["pathParameters"] = {"proxy": path.lstrip("/")}
        return event


class User:
    def __init__(self, prefix: str) -> None:
        self.id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.headers = {"authorization": f"Bearer {token(self.id)}"}
        self.base = f"/api/{self.id}/tasks"

    def event(self, method: str, path: str = "", **kwargs: Any) -> EventFactory:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return EventFactory(method, self.base + path, headers=headers, **kwargs)


def seed_tasks(connection: Any, user: str, count: int) -> list[int]:
    """Fixture rows, written straight to the database (never through the proxy)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tasks (user_id, title, priority, tags, created_at, updated_at) "
            "SELECT %s, 'seeded task ' || g, g %% 3, ARRAY['seed'], now() - g * interval '1 ms', now() "
            "FROM generate_series(1, %s) g RETURNING id",
            (user, count),
        )
        return sorted(row[0] for row in cursor.fetchall())


def call(handler: Handler, event: dict[str, Any], expected: int) -> dict[str, Any]:
    response = handler(event, CONTEXT)
    if response["statusCode"] != expected:
        request = f"{event['requestContext']['http']['method']} {event['rawPath']}"
        raise SystemExit(f"{request}: {response['statusCode']} != {expected}: {response.get('body', '')[:300]}")
    return response


def switch_database(url: str) -> None:
    """Point the app at another database, as tests/conftest.py's reset_app_state() does."""
    from shared.config import get_settings
    from shared.db import reset_engine

    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engine()


def timed_chunk(fn: Callable[[int], Any], start: int, max_count: int, max_seconds: float) -> tuple[int, float]:
    """Calls fn(start), fn(start + 1), ... until max_count calls or max_seconds: (calls, seconds)."""
    count = 0
    began = time.perf_counter()
    deadline = began + max_seconds
    while count < max_count:
        fn(start + count)
        count += 1
        if time.perf_counter() >= deadline:
            break
    return count, time.perf_counter() - began


class Routes:
    """Per route: an event factory (`i` makes resources distinct where needed) and its status."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.user = User("bench-warm")
        self.list_user = User("bench-list")
        self.task_id = seed_tasks(connection, self.user.id, 1)[0]
        seed_tasks(connection, self.list_user.id, 60)
        self.deletable: list[int] = []
        self.key_prefix = uuid.uuid4().hex[:8]

    def more_deletable(self, count: int) -> None:
        self.deletable = seed_tasks(self.connection, self.user.id, count)

    def make(self, name: str) -> tuple[MakeEvent, int]:
        user, task = self.user, f"/{self.task_id}"
        if name == "create":
            create = user.event("POST", body=CREATE_BODY)
            return (lambda i: create()), 201
        if name == "create_keyed":
            keyed = user.event("POST", body=CREATE_BODY)
            return (lambda i: keyed(headers={"idempotency-key": f"{self.key_prefix}-{i}"})), 201
        if name == "create_keyed_replay":
            replay = user.event("POST", body=CREATE_BODY, headers={"idempotency-key": f"{self.key_prefix}-again"})
            return (lambda i: replay()), 201
        if name == "delete":
            delete = user.event("DELETE", task)
            return (lambda i: delete(f"{user.base}/{self.deletable[i]}")), 204
        if name.startswith("sync_"):
            return self.make_sync(name)
        if name.startswith("batch_"):
            return self.make_batch(name)
        fixed = {
            "get": (user.event("GET", task), 200),
            "list": (self.list_user.event("GET", query="limit=50"), 200),
            "put": (user.event("PUT", task, body=PUT_BODY), 200),
            "patch": (user.event("PATCH", task, body=PATCH_BODY), 200),
            "complete": (user.event("PATCH", f"{task}/complete"), 200),
            "stats": (user.event("GET", "/stats"), 200),
        }
        factory, status = fixed[name]
        return (lambda i: factory()), status

    def sync_token(self, user: User, position: int) -> str:
        from shared.config import get_settings
        from shared.services.sync import encode_token

        return encode_token(get_settings().cursor_key, owner_id=user.id, position=position, floor=position)

    def make_sync(self, name: str) -> tuple[MakeEvent, int]:
        """A full page of the list user's 60 tasks, an incremental page of 20 of them, a poll with nothing new."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT seq FROM sync_state WHERE user_id = %s", (self.list_user.id,))
            (seq,) = cursor.fetchone()
        path = f"/api/{self.list_user.id}/sync"
        query = {
            "sync_full": "limit=50",
            "sync_incremental": f"since={self.sync_token(self.list_user, seq - 20)}",
            "sync_unchanged": f"since={self.sync_token(self.list_user, seq)}",
        }[name]
        sync = EventFactory("GET", path, query=query, headers=self.list_user.headers)
        return (lambda i: sync()), 200

    def make_batch(self, name: str) -> tuple[MakeEvent, int]:
        """N operations: creates named by refs, each followed by an update of it, plus updates of a task."""
        size = int(name.split("_")[1])
        operations: list[dict[str, Any]] = []
        while len(operations) < size:
            n = len(operations)
            operations.append({"op": "create", "ref": f"t{n}", "body": CREATE_BODY})
            if len(operations) < size:
                operations.append({"op": "update", "id": f"$t{n}", "body": PATCH_BODY})
            if len(operations) < size:
                operations.append({"op": "complete", "id": self.task_id})
        batch = self.user.event("POST", "/batch", body={"operations": operations})
        if name.endswith("_keyed"):
            return (lambda i: batch(headers={"idempotency-key": f"{self.key_prefix}-b{size}-{i}"})), 200
        return (lambda i: batch()), 200


# ----------------------------------------------------------------------------------- round trips


def measure_round_trips(handler: Handler, routes: Routes, control: int, repeats: int) -> dict[str, Any]:
    routes.more_deletable(repeats + 1)
    make, expected = routes.make("stats")
    before = mark(control)
    call(handler, make(0), expected)  # the process's first request opens the connection: apart
    after = mark(control)
    first = {
        "round_trips": after["z"] - before["z"],
        "statements": len(after["queries"]),
        "connections_opened": after["connections"] - before["connections"],
    }
    results: dict[str, Any] = {}
    for name in ROUND_TRIP_ROUTES:
        make, expected = routes.make(name)
        call(handler, make(repeats), expected)  # warm-up request of this route
        counts: list[int] = []
        queries: list[str] = []
        for i in range(repeats):
            before = mark(control)
            call(handler, make(i), expected)
            after = mark(control)
            counts.append(after["z"] - before["z"])
            queries = after["queries"]
        results[name] = {"round_trips": counts, "messages": queries}
    return {"first_request": first, "routes": results}


# ------------------------------------------------------------------------------------- warm cost


class Floor:
    """Plain psycopg2 in autocommit sending, per request, the messages the app sent for the route;
    for delete, each request names another existing task (the captured id is replaced)."""

    def __init__(self, cursor: Any, messages: list[str], delete_ids: list[int] | None = None) -> None:
        self.cursor = cursor
        self.messages = messages
        self.delete_ids = delete_ids
        if delete_ids is not None:
            found = re.search(r"tasks\.id = (\d+)\b", messages[-1])
            assert found, "the captured DELETE names no task id"
            self.pattern = re.compile(rf"tasks\.id = {found.group(1)}\b")

        self.rows: list[Any] = []
        self.description: Any = None

    def __call__(self, i: int) -> None:
        for sql in self.messages:
            if self.delete_ids is not None:
                sql = self.pattern.sub(f"tasks.id = {self.delete_ids[i]}", sql)
            self.cursor.execute(sql)
            self.description = self.cursor.description
            if self.description is not None:
                self.rows = self.cursor.fetchall()


def measure_warm(handler: Handler, routes: Routes, captured: dict[str, Any]) -> dict[str, Any]:
    rounds, seconds = CONFIG["warm_rounds"], CONFIG["warm_chunk_seconds"]
    app_cap, floor_cap, warmup = CONFIG["warm_app_cap"], CONFIG["warm_floor_cap"], 20
    connection = psycopg2.connect(CONFIG["database_url"])
    connection.autocommit = True
    cursor = connection.cursor()
    results: dict[str, Any] = {}
    for name in WARM_ROUTES:
        make, expected = routes.make(name)
        delete_ids = None
        if name == "delete":
            routes.more_deletable(warmup + rounds * app_cap)
            delete_ids = seed_tasks(connection, routes.user.id, warmup + rounds * floor_cap)
        floor = Floor(cursor, captured[name]["messages"], delete_ids)
        # The second floor shares the psycopg2 floor's ids (its own index range, past the first's).
        fw_floor = Floor(cursor, captured[name]["messages"], delete_ids)
        fw_first = warmup + rounds * floor_cap // 2
        fw_handler = framework_floor(make(0)["requestContext"]["http"]["method"], fw_floor, fw_first)

        def app(i: int, make: MakeEvent = make, expected: int = expected) -> None:
            call(handler, make(i), expected)

        def framework(i: int, make: MakeEvent = make, fw: Any = fw_handler) -> None:
            fw(make(i), CONTEXT)

        for i in range(warmup):
            app(i)
            floor(i)
        fw_floor_index = 0
        for _ in range(5):
            framework(fw_floor_index)
            fw_floor_index += 1
        app_index = floor_index = warmup
        app_rates, floor_rates, fw_rates = [], [], []
        for _ in range(rounds):  # alternate, so all three see the same background load
            n, elapsed = timed_chunk(app, app_index, app_cap, seconds)
            app_index += n
            app_rates.append(n / elapsed)
            n, elapsed = timed_chunk(floor, floor_index, floor_cap // 2, seconds)
            floor_index += n
            floor_rates.append(n / elapsed)
            n, elapsed = timed_chunk(framework, fw_floor_index, app_cap, seconds)
            fw_floor_index += n
            fw_rates.append(n / elapsed)
        results[name] = {
            "app_rps": statistics.median(app_rates),
            "floor_rps": statistics.median(floor_rates),
            "ratio": statistics.median(app_rates) / statistics.median(floor_rates),
            "ratio_per_round": [a / f for a, f in zip(app_rates, floor_rates, strict=True)],
            "framework_floor_rps": statistics.median(fw_rates),
            "ratio_to_framework_floor": statistics.median(app_rates) / statistics.median(fw_rates),
            "app_requests": app_index,
            "floor_requests": floor_index,
            "statements_per_request": len(captured[name]["messages"]),
        }
    connection.close()
    return results


def framework_reference(rounds: int, seconds: float) -> dict[str, float]:
    """Requests/s of Mangum + FastAPI alone (no auth, no database): one `async def` hello route and
    one `def` hello route (run in the threadpool). Context for the warm-cost ratios, not a floor."""
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()

    @app.get("/async")
    async def hello_async() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/sync")
    def hello_sync() -> dict[str, str]:
        return {"hello": "world"}

    handler = Mangum(app, lifespan="off")
    rates: dict[str, list[float]] = {"async": [], "sync": []}
    events = {kind: EventFactory("GET", f"/{kind}") for kind in rates}
    for _ in range(rounds):
        for kind, values in rates.items():

            def request(i: int, factory: EventFactory = events[kind]) -> None:
                call(handler, factory(), 200)

            n, elapsed = timed_chunk(request, 0, 100000, seconds / 2)
            values.append(n / elapsed)
    return {f"{kind}_rps": statistics.median(values) for kind, values in rates.items()}


def profile_route(handler: Handler, routes: Routes, name: str, out_dir: Path) -> dict[str, Any]:
    from pyinstrument import Profiler

    seconds = CONFIG["profile_seconds"]
    make, expected = routes.make(name)
    if name == "delete":
        routes.more_deletable(20000)

    def request(i: int) -> None:
        call(handler, make(i), expected)

    with counting_thread_hops() as hops:
        request(0)
    entry: dict[str, Any] = {"thread_hops_per_request": hops[0]}
    index = 1
    for mode in ("as_run", "threads_inlined"):
        with inline_threads(mode == "threads_inlined"):
            for _ in range(20):
                request(index)
                index += 1
            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            n, elapsed = timed_chunk(request, index, 100000, seconds)
            session = profiler.stop()
        index += n
        entry[mode] = {**summarize(session), "rps": n / elapsed}
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        (out_dir / f"profile_{name}_{mode}.txt").write_text(text)
    rates: dict[str, list[float]] = {"as_run": [], "threads_inlined": []}
    for _ in range(3):  # without the profiler: what the threadpool hops cost
        for mode, values in rates.items():
            with inline_threads(mode == "threads_inlined"):
                n, elapsed = timed_chunk(request, index, 100000, seconds / 3)
            index += n
            values.append(n / elapsed)
    entry["unprofiled_rps"] = {mode: statistics.median(values) for mode, values in rates.items()}
    return entry


def phase_warm(out: Path) -> None:
    from functions.api.handler import handler

    direct = psycopg2.connect(CONFIG["database_url"])
    direct.autocommit = True
    routes = Routes(direct)
    round_trips = measure_round_trips(handler, routes, CONFIG["proxy_control"], CONFIG["round_trip_repeats"])
    rss_first = maxrss_mb()
    switch_database(CONFIG["database_url"])  # the warm loops go straight to PostgreSQL
    make, expected = routes.make("get")
    call(handler, make(0), expected)
    warm = measure_warm(handler, routes, round_trips["routes"])
    result: dict[str, Any] = {
        "python": sys.version.split()[0],
        "list_user": routes.list_user.id,
        "round_trips": round_trips,
        "warm": warm,
        "memory": {"maxrss_mb_after_round_trips": rss_first, "maxrss_mb_after_warm_loop": maxrss_mb()},
    }
    result["framework_reference"] = framework_reference(CONFIG["warm_rounds"], CONFIG["warm_chunk_seconds"])
    out.write_text(json.dumps(result, indent=2))  # before profiling: nothing is lost if that fails
    missed = [name for name, row in warm.items() if row["ratio"] < CONFIG["warm_target"]]
    if missed:
        chosen = missed[:2] if CONFIG["quick"] else missed
        result["profiles"] = {name: profile_route(handler, routes, name, out.parent) for name in chosen}
        out.write_text(json.dumps(result, indent=2))
    direct.close()


# ----------------------------------------------------------------------------- latency at a distance


def phase_latency(out: Path) -> None:
    """bench/latency.py's route table through the delaying proxy (DATABASE_URL is the proxy)."""
    from functions.api.handler import handler, http_handler

    from bench.latency import RECURRING, measure

    direct = psycopg2.connect(CONFIG["database_url"])
    direct.autocommit = True
    user, list_user = User("bench-lat"), User("bench-lat-list")
    task, other = seed_tasks(direct, user.id, 2)
    seed_tasks(direct, list_user.id, 60)
    fresh = iter(seed_tasks(direct, user.id, (CONFIG["latency_requests"] + 2) * len(CONFIG["delays_ms"]) + 4))

    def make_event(method: str, path: str, query: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
        return http_v2(method, path, query=query, headers=headers, body=body)

    def create_recurring() -> int:
        response = handler(make_event("POST", user.base, "", user.headers, RECURRING), CONTEXT)
        created = json.loads(response.get("body") or "{}")
        if response["statusCode"] != 201 or created.get("recurrence") != RECURRING["recurrence"]:
            raise RuntimeError(f"recurring task not created: {response['statusCode']} {response.get('body', '')[:200]}")
        return int(created["id"])

    context = {
        "users": {"warm": (user.id, user.headers), "list": (list_user.id, list_user.headers)},
        "task": task,
        "other": other,
        "fresh": lambda: next(fresh),
        "create_recurring": create_recurring,
    }
    result = measure(handler, http_handler.app, make_event, context, CONFIG)
    direct.close()
    out.write_text(json.dumps(result, indent=2))


# --------------------------------------------------------------------------------- first request


def phase_coldprofile(out: Path) -> None:
    """Where a fresh process's first request goes (repo code in this venv; informational)."""
    from pyinstrument import Profiler

    began = time.perf_counter()
    from functions.api.handler import handler

    imported = time.perf_counter()
    user = CONFIG["cold_user"]
    listing = EventFactory("GET", f"/api/{user}/tasks", headers={"authorization": f"Bearer {token(user)}"})
    with inline_threads():  # so that the sampler sees the endpoint's work
        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        first_began = time.perf_counter()
        call(handler, listing(), 200)
        first = time.perf_counter() - first_began
        session = profiler.stop()
        second_began = time.perf_counter()
        call(handler, listing(), 200)
        second = time.perf_counter() - second_began
    text = profiler.output_text(unicode=True, color=False, show_all=True)
    (out.parent / "profile_first_request.txt").write_text(text)
    result = {
        "import_ms": (imported - began) * 1000,
        "first_request_ms_profiled": first * 1000,
        "second_request_ms": second * 1000,
        "profile": summarize(session, top=15),
    }
    out.write_text(json.dumps(result, indent=2))


# ----------------------------------------------------------------------------------------- scale


def describe_database(url: str, user: str, list_sql: str) -> dict[str, Any]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT user_id) FROM tasks")
        rows, users = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (user,))
        (mine,) = cursor.fetchone()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + list_sql.split("; ")[-1])
        plan = [r[0] for r in cursor.fetchall()]
    connection.close()
    return {"rows": rows, "users": users, "user_rows": mine, "plan": plan}


def phase_scale(out: Path) -> None:
    from functions.api.handler import handler

    user, list_sql = CONFIG["scale_user"], CONFIG["list_sql"]
    listing = EventFactory(
        "GET", f"/api/{user}/tasks", query="limit=50", headers={"authorization": f"Bearer {token(user)}"}
    )
    databases: dict[str, str] = CONFIG["scale_databases"]  # label: url
    handler_ms: dict[str, list[float]] = {label: [] for label in databases}
    sql_ms: dict[str, list[float]] = {label: [] for label in databases}
    described = {label: describe_database(url, user, list_sql) for label, url in databases.items()}
    connections = {label: psycopg2.connect(url) for label, url in databases.items()}
    for connection in connections.values():
        connection.autocommit = True
    items = 0
    for _ in range(CONFIG["scale_rounds"]):  # alternate the databases, round by round
        for label, url in databases.items():
            switch_database(url)
            for _ in range(5):  # opens the connection, warms the caches
                call(handler, listing(), 200)
            for _ in range(CONFIG["scale_requests"]):
                event = listing()
                began = time.perf_counter()
                response = call(handler, event, 200)
                handler_ms[label].append((time.perf_counter() - began) * 1000)
            items = len(json.loads(response["body"]))
            with connections[label].cursor() as cursor:
                for _ in range(CONFIG["scale_requests"]):
                    began = time.perf_counter()
                    cursor.execute(list_sql)
                    cursor.fetchall()
                    sql_ms[label].append((time.perf_counter() - began) * 1000)
    for connection in connections.values():
        connection.close()
    result = {
        "items_per_page": items,
        "databases": {
            label: {
                **described[label],
                "median_ms": statistics.median(handler_ms[label]),
                "p90_ms": statistics.quantiles(handler_ms[label], n=10)[-1],
                "sql_median_ms": statistics.median(sql_ms[label]),
                "requests": len(handler_ms[label]),
            }
            for label in databases
        },
    }
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    phases = {"warm": phase_warm, "coldprofile": phase_coldprofile, "scale": phase_scale, "latency": phase_latency}
    phases[sys.argv[1]](Path(sys.argv[3]))

"""The HTTP server path (issue 16 item 4): server CPU per request, per route, under uvicorn.

The app is served as `make run` serves it (bench/http_server.py uses scripts/serve.py's options),
the floor is the same uvicorn serving a bare FastAPI hello route. One keep-alive client sends the
requests; the server reports its own CPU time (time.process_time: every thread), read before and after
each chunk. App and floor alternate chunk by chunk, so both see the same load. The route rows
are bench/latency.py's table (the ones the server's OpenAPI document lists).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
from sqlalchemy.engine import URL

from bench.common import JWT_SECRET, OUT, QUICK, ROOT, libpq_url, log, token
from bench.latency import ROUTES, Route, served_paths

TARGET = 2.0
PORTS = {"app": 8260, "hello": 8261, "variant": 8262}  # this engineer's range: 8260-8279
HTTP_ROUTES = ["get", "list", "create", "patch", "complete", "stats", "delete"]


def cpu_seconds(port: int) -> float:
    """The server's own CPU seconds so far (bench/http_server.py answers on PORT + 10)."""
    with socket.create_connection(("127.0.0.1", port + 10)) as connection:
        return float(connection.makefile().readline())


@contextlib.contextmanager
def server(target: str, port: int, env: dict[str, str], options: dict[str, Any] | None = None) -> Iterator[int]:
    command = [sys.executable, "-m", "bench.http_server", target, str(port), json.dumps(options or {})]
    with open(OUT / f"http_{target}_{port}.log", "w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as probe:
                    probe.request("GET", "/openapi.json" if target == "app" else "/hello")
                    probe.getresponse().read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{target} server did not start: bench/out/http_{target}_{port}.log") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, headers: dict[str, str], body: Any, status: int) -> None:
        data = None if body is None else json.dumps(body)
        if data is not None:
            headers = {**headers, "content-type": "application/json"}
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # uvicorn closes a keep-alive connection idle for 5 s (while the other server's chunk
            # ran): it never read this request, so send it again on a new connection.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        payload = response.read()
        if response.status != status:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")


def run_http(url: URL) -> dict[str, Any]:
    chunk, rounds = (60, 3) if QUICK else (150, 5)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "dev", "AUTH_JWT_SECRET": JWT_SECRET}
    env["DATABASE_URL"] = libpq_url(url)
    for name in ("DIRECT_DATABASE_URL", "CURSOR_SECRET", "CORS_ALLOW_ORIGINS", "AUTH_JWKS_URL", "AUTH_ISSUER"):
        env.pop(name, None)
    direct = psycopg2.connect(libpq_url(url))
    direct.autocommit = True
    from bench.worker import seed_tasks

    users = {kind: f"bench-http-{kind}-{os.getpid()}" for kind in ("warm", "list")}
    task = seed_tasks(direct, users["warm"], 1)[0]
    seed_tasks(direct, users["list"], 60)
    fresh = iter(seed_tasks(direct, users["warm"], chunk * rounds + 10))
    headers = {kind: {"authorization": f"Bearer {token(user)}"} for kind, user in users.items()}

    def request(client: Client, route: Route, i: int) -> None:
        fields = {"task": task, "fresh": next(fresh) if "{fresh}" in route.path else 0}
        path = f"/api/{users[route.user]}" + route.path.format(**fields) + (f"?{route.query}" if route.query else "")
        body = route.body({}, i) if route.body else None
        client.send(route.method, path, headers[route.user], body, route.status)

    def cpu_per_request(port: int, send: Any, count: int) -> tuple[float, float]:
        cpu, wall = cpu_seconds(port), time.perf_counter()
        for i in range(count):
            send(i)
        return (cpu_seconds(port) - cpu) * 1000 / count, (time.perf_counter() - wall) * 1000 / count

    results: dict[str, Any] = {}
    with server("app", PORTS["app"], env) as app_port, server("hello", PORTS["hello"], env) as hello_port:
        app_client, hello_client = Client(PORTS["app"]), Client(PORTS["hello"])
        with contextlib.closing(http.client.HTTPConnection("127.0.0.1", PORTS["app"])) as probe:
            probe.request("GET", "/openapi.json")
            served = served_paths(_Document(json.loads(probe.getresponse().read())))
        routes = [r for r in ROUTES if r.name in HTTP_ROUTES and (r.method, r.serves) in served]
        samples: dict[str, dict[str, list[float]]] = {r.name: {"cpu": [], "floor": [], "wall": []} for r in routes}
        for route in routes:
            for i in range(5):  # warm-up
                request(app_client, route, i)
        for _ in range(rounds):
            for route in routes:
                cpu, wall = cpu_per_request(app_port, lambda i, r=route: request(app_client, r, i), chunk)
                floor, _ = cpu_per_request(
                    hello_port, lambda i: hello_client.send("GET", "/hello", {}, None, 200), chunk
                )
                samples[route.name]["cpu"].append(cpu)
                samples[route.name]["wall"].append(wall)
                samples[route.name]["floor"].append(floor)
        for name, s in samples.items():
            cpu, floor = statistics.median(s["cpu"]), statistics.median(s["floor"])
            results[name] = {
                "cpu_ms": cpu,
                "floor_cpu_ms": floor,
                "ratio": cpu / floor,
                "wall_ms": statistics.median(s["wall"]),
                "met": cpu / floor <= TARGET,
            }
    variants = compare_options(env, headers["warm"], f"/api/{users['warm']}/tasks/{task}", chunk)
    direct.close()
    options = ", ".join(f"{k}={v}" for k, v in _serve_options().items())
    log(f"http path: {len(results)} routes measured")
    return {
        "target": TARGET,
        "requests": chunk * rounds,
        "options": options,
        "routes": results,
        "variants": variants,
        "met": all(r["met"] for r in results.values()),
    }


def compare_options(env: dict[str, str], headers: dict[str, str], path: str, chunk: int) -> dict[str, float]:
    """GET task's server CPU per request under uvicorn options other than make run's."""
    variants: dict[str, dict[str, Any]] = {"as make run": {}, "access log on": {"access_log": True}}
    for module, option in (("httptools", {"http": "httptools"}), ("uvloop", {"loop": "uvloop"})):
        with contextlib.suppress(ImportError):
            __import__(module)
            variants[", ".join(f"{k}={v}" for k, v in option.items())] = option
    # What the threadpool hop costs: the app as on Lambda runs its database work inline (which a
    # server must not do: the loop would stop serving while one request waits).
    variants["database work inline (no threadpool hop)"] = {"env": {"AWS_LAMBDA_FUNCTION_NAME": "bench"}}
    out: dict[str, float] = {}
    for name, option in variants.items():
        option = dict(option)
        variant_env = {**env, **option.pop("env", {})}
        with server("app", PORTS["variant"], variant_env, option) as port:
            client = Client(PORTS["variant"])
            for _ in range(5):
                client.send("GET", path, headers, None, 200)
            cpu = cpu_seconds(port)
            for _ in range(chunk * 2):
                client.send("GET", path, headers, None, 200)
            out[name] = (cpu_seconds(port) - cpu) * 1000 / (chunk * 2)
    return out


class _Document:
    """served_paths() reads app.openapi(): the document fetched from the server, in that shape."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def openapi(self) -> dict[str, Any]:
        return self.document


def _serve_options() -> dict[str, Any]:
    from scripts.serve import uvicorn_options

    return uvicorn_options()

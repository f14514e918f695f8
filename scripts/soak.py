"""`make soak`: a bounded load test that loses nothing.

Starts the API with uvicorn on 127.0.0.1 (a free port, in a subprocess) against DATABASE_URL, else
TEST_DATABASE_URL, else an embedded PostgreSQL (migrated), and runs concurrent clients for a
bounded time and request count. Every client is a user of its own, so the order of its
acknowledged writes is the order they happened in. At the end it reconciles, through the API and
directly in the database:

- every acknowledged create is present, unless its delete was acknowledged;
- every acknowledged delete is gone;
- every task's fields equal its last acknowledged write;
- idempotent replays returned the first response's task and created nothing;
- no 5xx, no transport error.

Prints figures, exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shared.models.task import PUBLIC_FIELDS

COMPARED = PUBLIC_FIELDS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    routes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    requests: int = 0

    def record(self, route: str, status: int | None, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.routes[route] += 1
            self.latencies.append(seconds)
            if status is None:
                self.transport_errors.append(f"{route}: {detail}")
            else:
                self.statuses[status] += 1
                if status >= 500:
                    self.server_errors.append(f"{route} -> {status}: {detail[:200]}")


@dataclass
class Ledger:
    """What one user was told: the last acknowledged state of each task, and acknowledged deletes."""

    user: str
    live: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    keys: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)  # key -> (body, task id)
    uncertain: set[int] = field(default_factory=set)  # a write whose outcome is unknown (transport error)
    writes: int = 0
    violations: list[str] = field(default_factory=list)


class Worker(threading.Thread):
    def __init__(
        self,
        base_url: str,
        ledger: Ledger,
        token: str,
        stats: Stats,
        deadline: float,
        budget: threading.Semaphore,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        import httpx

        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.ledger = ledger
        self.stats = stats
        self.deadline = deadline
        self.budget = budget
        self.random = random.Random(seed)
        self.base = f"/api/{ledger.user}/tasks"

    def _call(self, route: str, method: str, path: str = "", **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = self.client.request(method, self.base + path, **kwargs)
        except Exception as error:  # noqa: BLE001 (a transport failure is a finding, not a crash)
            self.stats.record(route, None, time.perf_counter() - started, type(error).__name__)
            return None
        self.stats.record(route, response.status_code, time.perf_counter() - started, response.text)
        return response

    def _fields(self) -> dict[str, Any]:
        r = self.random
        body: dict[str, Any] = {"title": f"task {uuid.uuid4().hex[:8]}"}
        if r.random() < 0.5:
            body["description"] = r.choice(["", "some words", "line\nbreak", None])
        if r.random() < 0.5:
            body["priority"] = r.choice(["low", "medium", "high"])
        if r.random() < 0.4:
            body["tags"] = r.sample(["home", "work", "Urgent", "later", "x"], r.randint(0, 3))
        if r.random() < 0.4:
            body["due_at"] = r.choice([None, "2030-01-01T10:00:00+02:00", "2020-06-01T00:00:00Z"])
        if r.random() < 0.2:
            body["completed"] = r.random() < 0.5
        return body

    def _acknowledge(self, task_id: int, response: Any) -> None:
        self.ledger.live[task_id] = response.json()
        self.ledger.writes += 1

    def _pick(self) -> int | None:
        candidates = [t for t in self.ledger.live if t not in self.ledger.uncertain]
        return self.random.choice(candidates) if candidates else None

    def _mark_uncertain(self, task_id: int | None) -> None:
        if task_id is not None:
            self.ledger.uncertain.add(task_id)

    def step(self) -> None:
        r = self.random.random()
        ledger = self.ledger
        task_id = self._pick()
        if r < 0.30 or task_id is None:
            body = self._fields()
            headers = {}
            key = None
            if self.random.random() < 0.3:
                key = uuid.uuid4().hex
                headers["Idempotency-Key"] = key
            response = self._call("POST /tasks", "POST", json=body, headers=headers)
            if response is not None and response.status_code == 201:
                task = response.json()
                self._acknowledge(task["id"], response)
                if key:
                    ledger.keys[key] = (body, task["id"])
            elif response is not None and response.status_code < 500:
                ledger.violations.append(f"create answered {response.status_code}: {response.text[:200]}")
        elif r < 0.36 and ledger.keys:
            key = self.random.choice(list(ledger.keys))
            body, first_id = ledger.keys[key]
            response = self._call("POST /tasks (replay)", "POST", json=body, headers={"Idempotency-Key": key})
            replayed = response is not None and response.status_code == 201
            if replayed and (response.json()["id"], response.headers.get("idempotent-replayed")) != (first_id, "true"):
                ledger.violations.append(f"replay of {key} gave task {response.json()['id']}, not {first_id}")
        elif r < 0.50:
            response = self._call(
                "PATCH /tasks/{id}",
                "PATCH",
                f"/{task_id}",
                json={k: v for k, v in self._fields().items() if self.random.random() < 0.6} or {"title": "patched"},
            )
            self._after_write(task_id, response)
        elif r < 0.60:
            response = self._call("PUT /tasks/{id}", "PUT", f"/{task_id}", json=self._fields())
            self._after_write(task_id, response)
        elif r < 0.72:
            body = None if self.random.random() < 0.5 else {"completed": self.random.random() < 0.5}
            response = self._call("PATCH /tasks/{id}/complete", "PATCH", f"/{task_id}/complete", json=body)
            self._after_write(task_id, response)
        elif r < 0.80:
            etag = None
            if self.random.random() < 0.3:
                got = self._call("GET /tasks/{id}", "GET", f"/{task_id}")
                etag = got.headers.get("etag") if got is not None and got.status_code == 200 else None
            response = self._call(
                "DELETE /tasks/{id}", "DELETE", f"/{task_id}", headers={"If-Match": etag} if etag else {}
            )
            if response is None or response.status_code >= 500:
                self._mark_uncertain(task_id)
            elif response.status_code == 204:
                ledger.live.pop(task_id, None)
                ledger.deleted.add(task_id)
                ledger.writes += 1
            else:
                ledger.violations.append(f"delete {task_id} answered {response.status_code}")
        elif r < 0.88:
            query = self.random.choice(
                [
                    "",
                    "?status=pending",
                    "?sort=-updated_at&limit=5",
                    "?tag=work",
                    "?q=task&sort=title",
                    "?priority=high&priority=low",
                ]
            )
            self._call("GET /tasks", "GET", query)
        elif r < 0.94:
            response = self._call("GET /tasks/{id}", "GET", f"/{task_id}")
            if response is not None and response.status_code == 200:
                seen = response.json()
                if {k: seen[k] for k in COMPARED} != {k: ledger.live[task_id][k] for k in COMPARED}:
                    ledger.violations.append(f"read of {task_id} differs from its last acknowledged write")
        else:
            self._call("GET /tasks/stats", "GET", "/stats")

    def _after_write(self, task_id: int, response: Any) -> None:
        if response is None or response.status_code >= 500:
            self._mark_uncertain(task_id)
        elif response.status_code == 200:
            self._acknowledge(task_id, response)
        else:
            self.ledger.violations.append(f"write to {task_id} answered {response.status_code}: {response.text[:200]}")

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline and self.budget.acquire(blocking=False):
                self.step()
        finally:
            self.client.close()


def _all_tasks(client: Any, user: str, token: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    url: str | None = f"/api/{user}/tasks?limit=200"
    while url:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        tasks.extend(response.json())
        link = response.headers.get("link")
        url = link.split(";", 1)[0].strip("<> ") if link else None
    return tasks


def reconcile(base_url: str, database_url: str, ledgers: list[Ledger], tokens: dict[str, str]) -> tuple[int, list[str]]:
    import httpx
    import psycopg2

    violations: list[str] = []
    checked = 0
    with (
        httpx.Client(base_url=base_url, timeout=30) as client,
        contextlib.closing(psycopg2.connect(database_url, application_name="tasks-api-soak")) as db,
    ):
        with db.cursor() as cursor:
            for ledger in ledgers:
                violations += [f"{ledger.user}: {v}" for v in ledger.violations]
                api = {t["id"]: t for t in _all_tasks(client, ledger.user, tokens[ledger.user])}
                # Live tasks only: a delete keeps a tombstone (deleted_at set) for sync.
                cursor.execute("SELECT id FROM tasks WHERE user_id = %s AND deleted_at IS NULL", (ledger.user,))
                in_db = {row[0] for row in cursor.fetchall()}
                if set(api) != in_db:
                    violations.append(f"{ledger.user}: the API lists {len(api)} tasks, the database holds {len(in_db)}")
                for task_id, last in ledger.live.items():
                    if task_id in ledger.uncertain:
                        continue
                    checked += 1
                    if task_id not in api:
                        violations.append(f"{ledger.user}: acknowledged task {task_id} is missing")
                    elif {k: api[task_id][k] for k in COMPARED} != {k: last[k] for k in COMPARED}:
                        violations.append(f"{ledger.user}: task {task_id} is {api[task_id]}, last acknowledged {last}")
                for task_id in ledger.deleted:
                    checked += 1
                    if task_id in api or task_id in in_db:
                        violations.append(f"{ledger.user}: acknowledged delete of {task_id} is not applied")
                known = set(ledger.live) | ledger.deleted | ledger.uncertain
                for task_id in set(api) - known:
                    violations.append(f"{ledger.user}: task {task_id} exists but no create of it was acknowledged")
    return checked, violations


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@contextlib.contextmanager
def database() -> Any:
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url, bool(os.environ.get("TEST_DATABASE_URL")) and not os.environ.get("DATABASE_URL")
        return
    from scripts import devdb

    with tempfile.TemporaryDirectory(prefix="tasks-api-soak-") as data_dir:
        server = devdb.start(Path(data_dir), keep=False)
        try:
            yield devdb.url_of(server), True
        finally:
            server.cleanup()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from shared.config import normalize_database_url

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["url"] = normalize_database_url(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@contextlib.contextmanager
def serve(url: str) -> Any:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APP_ENV": os.environ.get("APP_ENV", "local"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "functions.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=REPO,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the API did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 30)))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard cap on requests")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)

    import jwt

    from shared.config import Settings

    with database() as (url, needs_migration):
        if needs_migration:
            migrate(url)
        secret = Settings(app_env=os.environ.get("APP_ENV", "local")).auth_jwt_secret  # type: ignore[call-arg]
        if secret is None:
            print("soak needs AUTH_JWT_SECRET (or APP_ENV=local/test) to mint tokens", file=sys.stderr)
            return 2
        run = uuid.uuid4().hex[:8]
        users = [f"soak-{run}-{i}" for i in range(args.clients)]
        tokens = {
            u: jwt.encode(
                {"sub": u, "exp": int(time.time()) + 3600 + int(args.seconds)},
                secret.get_secret_value(),
                algorithm="HS256",
            )
            for u in users
        }
        ledgers = [Ledger(u) for u in users]
        stats = Stats()
        seed = args.seed if args.seed is not None else random.randrange(2**32)
        with serve(url) as base_url:
            budget = threading.Semaphore(args.max_requests)
            deadline = time.monotonic() + args.seconds
            started = time.monotonic()
            workers = [
                Worker(base_url, ledger, tokens[ledger.user], stats, deadline, budget, seed + i)
                for i, ledger in enumerate(ledgers)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.monotonic() - started
            checked, violations = reconcile(base_url, url, ledgers, tokens)

    violations += [f"5xx: {e}" for e in stats.server_errors] + [f"transport error: {e}" for e in stats.transport_errors]
    latencies_ms = [s * 1000 for s in stats.latencies]
    print(f"soak: {args.clients} clients, {elapsed:.1f} s, seed {seed}")
    print(f"requests: {stats.requests} ({stats.requests / max(elapsed, 1e-9):.0f}/s)")
    for route, count in sorted(stats.routes.items()):
        print(f"  {route:32s} {count}")
    print("statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(stats.statuses.items())))
    if latencies_ms:
        print(
            f"latency ms: p50 {statistics.median(latencies_ms):.1f}  "
            f"p95 {_percentile(latencies_ms, 0.95):.1f}  max {max(latencies_ms):.1f}"
        )
    print(f"5xx: {len(stats.server_errors)}  transport errors: {len(stats.transport_errors)}")
    print(
        f"acknowledged writes: {sum(ledger.writes for ledger in ledgers)}  tasks/deletes reconciled: {checked}  "
        f"uncertain: {sum(len(ledger.uncertain) for ledger in ledgers)}"
    )
    if violations:
        print(f"VIOLATIONS ({len(violations)}):")
        for violation in violations[:50]:
            print(f"  {violation}")
        return 1
    print("reconciliation: OK, nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())

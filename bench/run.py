"""`make bench` (python -m bench.run): cold start, round trips, warm cost, scale and memory.

Database: BENCH_DATABASE_URL names a server and a database (default name `bench`), created if
missing, migrated and EMPTIED at the start of every run; `<name>_scale_1k` and `<name>_scale_1m`
beside it are created and seeded once, then reused. Unset: an embedded PostgreSQL (pgserver) kept in
bench/out/pgdata. BENCH_QUICK=1: fewer runs, shorter loops. BENCH_SKIP_BUILD=1: reuse bench/out/build.

The machine is shared: every figure is a ratio to a floor measured in the same run, shown next to
its absolute median, and nothing here is a timed pass/fail test.
Writes bench/results.json and bench/results.md; scratch files (builds, logs, profiles) go to bench/out/.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench.coldstart import build_artifacts, find_python312, run_cold
from bench.common import BENCH, OUT, QUICK, ROOT, STARTED, libpq_url, log, run_worker
from bench.database import counting_proxy, database_server, prepare_bench_database, seed_scale, seed_user
from bench.http import run_http
from bench.report import render

WARM_TARGET = 0.35
SCALE_TARGET = 1.2
FIRST_REQUEST_TARGET = 2  # ReadyForQuery messages: the connection's startup, then the statement
ROUND_TRIP_TARGETS = {"create_keyed": 2, "create_keyed_replay": 2}  # every other route: 1
SCALE_SMALL = {"rows": 1_000, "users": 10}
SCALE_BIG = {"rows": 1_000_000, "users": 10_000}
SCALE_USER = "scale-u00007"  # 100 tasks in both databases
TIMINGS: dict[str, float] = {}
LIBRARIES = ["fastapi", "starlette", "mangum", "sqlmodel", "SQLAlchemy", "psycopg2-binary", "pydantic"]
LIBRARIES += ["pydantic-settings", "PyJWT", "cryptography", "anyio", "pyinstrument"]


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    began = time.perf_counter()
    log(f"{name} ...")
    yield
    TIMINGS[name] = round(time.perf_counter() - began, 1)
    log(f"{name} done in {TIMINGS[name]}s")


def run_warm(url: URL) -> dict[str, Any]:
    """Round trips (through the counting proxy), then warm cost and memory (direct), one process."""
    with counting_proxy(url) as (proxy_url, control):
        return run_worker(
            "warm",
            {
                "database_url": libpq_url(url),
                "proxy_url": libpq_url(proxy_url),
                "proxy_control": control,
                "warm_target": WARM_TARGET,
                "round_trip_repeats": 3,
                "warm_rounds": 3 if QUICK else 5,
                "warm_chunk_seconds": 0.25 if QUICK else 0.8,
                "warm_app_cap": 1500,
                "warm_floor_cap": 8000,
                "profile_seconds": 0.5 if QUICK else 1.5,
            },
        )


def run_latency(url: URL) -> dict[str, Any]:
    """Per-route latency through the delaying proxy, in a warm handler process of its own."""
    with counting_proxy(url) as (proxy_url, control):
        return run_worker(
            "latency",
            {
                "database_url": libpq_url(url),
                "proxy_url": libpq_url(proxy_url),
                "proxy_control": control,
                "delays_ms": [0, 1, 2, 5],
                "latency_requests": 20 if QUICK else 60,
            },
        )


def run_scale(small: URL, big: URL, list_sql: str, list_user: str) -> dict[str, Any]:
    return run_worker(
        "scale",
        {
            "database_url": libpq_url(small),
            "scale_user": SCALE_USER,
            "scale_databases": {"1k": libpq_url(small), "1m": libpq_url(big)},
            "scale_rounds": 3 if QUICK else 6,
            "scale_requests": 20 if QUICK else 50,
            "list_sql": list_sql.replace(f"'{list_user}'", f"'{SCALE_USER}'"),
        },
    )


def versions(py312: str, artifact: Path) -> dict[str, Any]:
    venv = {}
    for name in LIBRARIES:
        with contextlib.suppress(PackageNotFoundError):
            venv[name] = version(name)
    shipped = sorted(p.name.removesuffix(".dist-info") for p in artifact.glob("*.dist-info"))
    probe = [py312, "-c", "import sys; print(sys.version.split()[0])"]
    return {
        "venv_python": platform.python_version(),
        "artifact_python": subprocess.run(probe, capture_output=True, text=True).stdout.strip(),
        "venv": venv,
        "artifact": shipped,
    }


def summarize(
    url: URL, scale_urls: list[URL], seeded: dict[str, float], py312: str, artifacts: dict[str, Path], **parts: Any
) -> dict[str, Any]:
    warm, scale, load_start = parts["warm"], parts["scale"], parts["load_start"]
    round_trips: dict[str, Any] = {}
    for name, row in warm["round_trips"]["routes"].items():
        target = ROUND_TRIP_TARGETS.get(name, 1)
        worst = max(row["round_trips"])
        round_trips[name] = {
            "round_trips": worst,
            "all": row["round_trips"],
            "target": target,
            "met": worst <= target,
            "messages": len(row["messages"]),
            "sql": row["messages"],
        }
    first = warm["round_trips"]["first_request"]
    first = {**first, "target": FIRST_REQUEST_TARGET, "met": first["round_trips"] <= FIRST_REQUEST_TARGET}
    warm_routes = {name: {**row, "met": row["ratio"] >= WARM_TARGET} for name, row in warm["warm"].items()}
    databases = scale["databases"]
    scale_ratio = databases["1m"]["median_ms"] / databases["1k"]["median_ms"]
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "functions", "shared"], cwd=ROOT, capture_output=True, text=True
    )
    edited = sorted(line[3:] for line in changed.stdout.splitlines())  # uncommitted app changes measured too
    return {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": QUICK,
        "git_revision": revision.stdout.strip(),
        "uncommitted_app_changes": edited,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "database": {
            "embedded": not os.environ.get("BENCH_DATABASE_URL"),
            "databases": [url.database, *(u.database for u in scale_urls)],
            "seeding_s": seeded,
        },
        "versions": versions(py312, artifacts["app"]),
        "cold_start": parts["cold"],
        "round_trips": {
            "routes": round_trips,
            "first_request": first,
            "met": all(r["met"] for r in round_trips.values()) and first["met"],
        },
        "warm": {
            "routes": warm_routes,
            "target": WARM_TARGET,
            "met": all(r["met"] for r in warm_routes.values()),
            "profiles": warm.get("profiles"),
            "framework_reference": warm.get("framework_reference"),
        },
        "scale": {
            **scale,
            "ratio": scale_ratio,
            "sql_ratio": databases["1m"]["sql_median_ms"] / databases["1k"]["sql_median_ms"],
            "target": SCALE_TARGET,
            "met": scale_ratio <= SCALE_TARGET,
        },
        "latency": {
            **parts["latency"],
            "met": all(r["met"] for r in parts["latency"]["routes"].values() if r["measured"]),
        },
        "http": parts["http"],
        "memory": warm["memory"],
        "timings_s": {**TIMINGS, "total": round(time.perf_counter() - STARTED, 1)},
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    py312 = find_python312()
    with database_server() as url:
        small = url.set(database=f"{url.database}_scale_1k")
        big = url.set(database=f"{url.database}_scale_1m")
        with phase("databases"):
            prepare_bench_database(url)
            seeded = {"1k": seed_scale(small, **SCALE_SMALL), "1m": seed_scale(big, **SCALE_BIG)}
        with phase("build"):
            artifacts = build_artifacts(py312)
        with phase("cold start"):
            cold = run_cold(url, py312, artifacts, seed_user(url, "bench-cold", 20))
        with phase("round trips, warm cost, memory"):
            warm = run_warm(url)
        with phase("latency at a database distance"):
            latency = run_latency(url)
        with phase("HTTP server path"):
            http = run_http(url)
        with phase("scale"):
            list_sql = warm["round_trips"]["routes"]["list"]["messages"][-1]
            scale = run_scale(small, big, list_sql, warm["list_user"])
    results = summarize(
        url,
        [small, big],
        seeded,
        py312,
        artifacts,
        warm=warm,
        scale=scale,
        cold=cold,
        latency=latency,
        http=http,
        load_start=load_start,
    )
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report = render(results)
    (BENCH / "results.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

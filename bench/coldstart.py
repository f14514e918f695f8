"""Cold start: fresh python3.12 processes import a built artifact and serve one request.

Three artifacts, built or derived the same way:
- app: scripts/build.sh --arch x86_64 (sam build + checked-hash bytecode), handler functions.api.handler;
- floor: a copy of that artifact without functions/ and shared/, plus bench/hello_handler.py as
  bench_hello (the design's libraries imported bare and a one-route hello handler), compiled the same way;
- nobytecode: a copy of the app artifact with every __pycache__ removed.
Each process runs as `python3.12 -I -S` in an empty folder with a Lambda-like environment and
writes no bytecode (Lambda's code directory is read-only).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench.common import BENCH, JWT_SECRET, OUT, QUICK, ROOT, SKIP_BUILD, libpq_url, run_worker, token

COLD_RUNS = 4 if QUICK else 12
COLD_TARGET = 1.15
Importtime = list[tuple[str, int, int, int]]  # (module, self us, cumulative us, depth)


def find_python312() -> str:
    done = subprocess.run(
        ["bash", "-c", f'source "{ROOT}/scripts/lib.sh" && find_python312'], capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(done.stderr)
    return done.stdout.strip()


def build_artifacts(py312: str) -> dict[str, Path]:
    build = OUT / "build"
    app = build / "ApiFunction"
    if not (SKIP_BUILD and (app / "functions").exists()):
        with open(OUT / "build.log", "w") as build_log:
            done = subprocess.run(
                [str(ROOT / "scripts/build.sh"), "--arch", "x86_64", "--build-dir", str(build)],
                cwd=ROOT,
                stdout=build_log,
                stderr=subprocess.STDOUT,
            )
        if done.returncode:
            sys.exit(f"scripts/build.sh failed: see {OUT / 'build.log'}")
    floor = OUT / "floor"
    shutil.rmtree(floor, ignore_errors=True)
    shutil.copytree(app, floor, symlinks=True, ignore=lambda d, _: ["functions", "shared"] if Path(d) == app else [])
    shutil.copy(BENCH / "hello_handler.py", floor / "bench_hello.py")
    compile_hello = [
        py312,
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "checked-hash",
        str(floor / "bench_hello.py"),
    ]
    subprocess.run(compile_hello, check=True)
    bare = OUT / "nobytecode"
    shutil.rmtree(bare, ignore_errors=True)
    shutil.copytree(app, bare, symlinks=True)
    for cache in sorted(bare.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    return {"app": app, "floor": floor, "nobytecode": bare}


def event(method: str, path: str, headers: dict[str, str] | None = None) -> str:
    from scripts.artifact_smoke import http_v2

    return json.dumps(http_v2(method, path, headers=headers))


def child_env(url: URL) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(OUT / "cold"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "tasks-api-bench",
        "APP_ENV": "dev",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": libpq_url(url),
        "AUTH_JWT_SECRET": JWT_SECRET,
    }


def cold_once(
    py312: str, variant: dict[str, Any], env: dict[str, str], flags: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """One fresh process: (its JSON line plus wall_s from spawn to the response, its stderr)."""
    child = str(BENCH / "coldstart_child.py")
    command = [py312, "-I", "-S", *flags, child, str(variant["dir"]), variant["module"]]
    with tempfile.TemporaryFile("w+") as stderr:  # a file, not a pipe: -X importtime writes a lot
        began = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=OUT / "cold", env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        assert process.stdin and process.stdout
        process.stdin.write(variant["event"])
        process.stdin.close()
        line = process.stdout.readline()
        while line.startswith('{"_aws"'):  # the app's EMF metric lines (functions/api/metrics.py)
            line = process.stdout.readline()
        wall = time.perf_counter() - began
        process.wait()
        stderr.seek(0)
        errors = stderr.read()
    if not line:
        sys.exit(f"cold start of {variant['module']} failed:\n{errors[-3000:]}")
    result: dict[str, Any] = json.loads(line)
    if result["status"] != 200 or not result["fastapi_from_artifact"]:
        sys.exit(f"cold start of {variant['module']}: {result}\n{errors[-2000:]}")
    result["wall_s"] = wall
    return result, errors


def parse_importtime(stderr: str) -> Importtime:
    rows = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)), depth))
    return rows


def importtime_report(app_rows: Importtime, floor_rows: Importtime) -> dict[str, Any]:
    """What the app adds to the floor's imports: its own modules' self time (module-level code, such
    as create_app() run by functions.api.handler) and the full price of each import statement in app
    code that loads something the floor never loads."""

    def by_package(rows: Importtime) -> dict[str, int]:
        totals: dict[str, int] = {}
        for name, self_us, _, _ in rows:
            top = name.split(".", 1)[0]
            totals[top] = totals.get(top, 0) + self_us
        return totals

    def is_app(name: str) -> bool:
        return name.split(".", 1)[0] in ("functions", "shared")

    app_pkg, floor_pkg = by_package(app_rows), by_package(floor_rows)
    floor_modules = {name for name, *_ in floor_rows}
    extra_pkg = sorted(((p, us - floor_pkg.get(p, 0)) for p, us in app_pkg.items()), key=lambda kv: -kv[1])
    # -X importtime prints a module after its children: walked backwards, a module's parent is the
    # last module seen one level up.
    parent_of: dict[str, str | None] = {}
    last_at_depth: dict[int, str] = {}
    for name, _, _, depth in reversed(app_rows):
        parent_of[name] = last_at_depth.get(depth - 1) if depth else None
        last_at_depth[depth] = name
    contributors = []
    for name, self_us, cumulative, _ in app_rows:
        parent = parent_of.get(name)
        if is_app(name):
            contributors.append((f"{name} (own module code)", self_us))
        elif name not in floor_modules and parent is not None and is_app(parent):
            contributors.append((f"{name} (imported by {parent})", cumulative))
    top = sorted(contributors, key=lambda kv: -kv[1])[:15]
    return {
        "app_total_ms": round(sum(s for _, s, _, _ in app_rows) / 1000, 1),
        "floor_total_ms": round(sum(s for _, s, _, _ in floor_rows) / 1000, 1),
        "extra_self_ms_by_package": [(p, round(us / 1000, 1)) for p, us in extra_pkg[:12] if us > 500],
        "top_contributors_ms": [(n, round(us / 1000, 1)) for n, us in top],
    }


def run_cold(url: URL, py312: str, artifacts: dict[str, Path], user: str) -> dict[str, Any]:
    (OUT / "cold").mkdir(exist_ok=True)
    list_event = event("GET", f"/api/{user}/tasks", headers={"authorization": f"Bearer {token(user)}"})
    variants = {
        "app": {"dir": artifacts["app"], "module": "functions.api.handler", "event": list_event},
        "floor": {"dir": artifacts["floor"], "module": "bench_hello", "event": event("GET", "/hello")},
        "floor_db": {"dir": artifacts["floor"], "module": "bench_hello", "event": event("GET", "/hello/db")},
        "app_nobytecode": {"dir": artifacts["nobytecode"], "module": "functions.api.handler", "event": list_event},
    }
    env = child_env(url)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for variant in variants.values():  # page cache and the server's caches; not counted
        cold_once(py312, variant, env)
    names = list(variants)
    for i in range(COLD_RUNS):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order
            samples[name].append(cold_once(py312, variants[name], env)[0])
    summary: dict[str, Any] = {}
    for name, runs in samples.items():
        summary[name] = {
            "runs": len(runs),
            "wall_median_ms": statistics.median(r["wall_s"] for r in runs) * 1000,
            "import_median_ms": statistics.median(r["import_s"] for r in runs) * 1000,
            "first_request_median_ms": statistics.median(r["first_request_s"] for r in runs) * 1000,
            "wall_ms": [round(r["wall_s"] * 1000, 1) for r in runs],
            "modules": runs[0]["modules"],
        }
    for name in summary:
        summary[name]["ratio_to_floor"] = summary[name]["wall_median_ms"] / summary["floor"]["wall_median_ms"]
    _, app_trace = cold_once(py312, variants["app"], env, ("-X", "importtime"))
    _, floor_trace = cold_once(py312, variants["floor"], env, ("-X", "importtime"))
    (OUT / "importtime_app.txt").write_text(app_trace)
    (OUT / "importtime_floor.txt").write_text(floor_trace)
    first_request = run_worker("coldprofile", {"database_url": libpq_url(url), "cold_user": user})
    return {
        "variants": summary,
        "ratio": summary["app"]["ratio_to_floor"],
        "target": COLD_TARGET,
        "met": summary["app"]["ratio_to_floor"] <= COLD_TARGET,
        "importtime": importtime_report(parse_importtime(app_trace), parse_importtime(floor_trace)),
        "first_request_profile": first_request,
        "floor_method": (
            "a copy of the app's built artifact (same sam build, same checked-hash bytecode) with functions/ "
            "and shared/ removed and bench/hello_handler.py added as bench_hello.py, compiled the same way"
        ),
    }

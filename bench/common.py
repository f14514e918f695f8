"""Paths, the run's settings and helpers shared by the benchmark's parts."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"  # scratch: builds, logs, profiles (git-ignored)
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SKIP_BUILD = os.environ.get("BENCH_SKIP_BUILD", "") not in ("", "0")  # reuse bench/out/build
JWT_SECRET = "bench-" + secrets.token_hex(24)  # a throwaway HS256 secret for this run only
STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[bench {time.perf_counter() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def libpq_url(url: URL) -> str:
    """A URL that both libpq (psycopg2.connect) and the app accept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 3 * 3600}, JWT_SECRET, algorithm="HS256")


def run_worker(phase_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """bench/worker.py PHASE in a fresh process (the warm Lambda container); returns its JSON."""
    out = OUT / f"worker_{phase_name}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    config = {**config, "jwt_secret": JWT_SECRET, "quick": QUICK}
    with open(OUT / f"worker_{phase_name}.log", "w") as worker_log:
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", phase_name, json.dumps(config), str(out)],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
    if not out.exists():
        tail = (OUT / f"worker_{phase_name}.log").read_text()[-3000:]
        sys.exit(f"worker {phase_name} failed ({done.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    if done.returncode:
        log(f"worker {phase_name} exited {done.returncode} after writing results: bench/out/worker_{phase_name}.log")
    return result

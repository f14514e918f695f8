"""`make test-sam-local`: the API served by `sam local start-api` (scripts/local_api.py, the same
command as `make local-api`) on the session's migrated database, beside the in-process handler
configured the same way (APP_ENV=dev, the same secret). Collected only with SAM_LOCAL_TESTS=1:
it needs root, a Docker engine of its own and a few minutes, so `make test` leaves it out."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import reset_app_state
from tests.support import REPO

STARTUP_SECONDS = 900  # a cold machine: apt, sam build, the stand-in image; warm runs take ~1 min


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return None if os.environ.get("SAM_LOCAL_TESTS") else True


@pytest.fixture(scope="session")
def sam_secret() -> str:
    return secrets.token_urlsafe(40)


@pytest.fixture(scope="session")
def sam_local(
    migrated_database: str, sam_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("sam-local")
    ready, function_log = work / "ready.json", work / "function.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "SAM_LOCAL_"))}
    env.update(DATABASE_URL=migrated_database, AUTH_JWT_SECRET=sam_secret, PYTHONPATH=str(REPO))
    port = os.environ.get("SAM_LOCAL_PORT", "8151")
    command = [sys.executable, "scripts/local_api.py", "--port", port, "--log-file", str(function_log),
               "--ready-file", str(ready)]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not ready.exists():
            assert process.poll() is None, f"scripts/local_api.py exited with {process.returncode}"
            assert time.monotonic() < deadline, "sam local start-api was not ready in time"
            time.sleep(1)
        yield {**json.loads(ready.read_text()), "function_log": function_log}
    finally:
        # Everything it started (sam, the engine, the forwarders) stops with it, by pid.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def http(sam_local: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sam_local["url"], timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def handler(test_environment: None, sam_secret: str) -> Iterator[Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """The in-process handler, set up as the container's: APP_ENV=dev, the same secret, on Lambda."""
    saved = dict(os.environ)
    os.environ.update(APP_ENV="dev", AUTH_JWT_SECRET=sam_secret, AWS_LAMBDA_FUNCTION_NAME="tasks-api-in-process")
    reset_app_state()
    from functions.api.handler import handler as lambda_handler

    yield lambda_handler  # type: ignore[misc]
    os.environ.clear()
    os.environ.update(saved)
    reset_app_state()

"""The README's commands, run as a user runs them (as subprocesses), against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import jwt

from shared.config import DEVELOPMENT_JWT_SECRET
from tests.support import REPO
from tests.support.tokens import make_token


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    env.update(PYTHONPATH=str(REPO), APP_ENV="local", DATABASE_URL=database_url, **extra)
    return env


def test_make_token_prints_a_development_token_for_the_user(migrated_database):
    result = subprocess.run(
        [sys.executable, "scripts/dev_token.py", "alice"],
        cwd=REPO,
        env=_env(migrated_database),
        capture_output=True,
        text=True,
        check=True,
    )
    claims = jwt.decode(result.stdout.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 3600


def test_the_run_command_serves_the_api_with_the_token_it_tells_you_to_make(migrated_database):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "scripts/serve.py"],
        cwd=REPO,
        env=_env(migrated_database, PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        token = make_token("readme-user", lifetime=60)
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{base}/api/readme-user/tasks", json={"title": "Buy milk", "tags": ["home"]}, headers=headers
        )
        assert created.status_code == 201
        listed = httpx.get(f"{base}/api/readme-user/tasks", headers=headers)
        assert listed.status_code == 200
        assert created.json() in listed.json()
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "make token USER=alice" in output
    assert (
        f'curl -H "Authorization: Bearer $(make -s token USER=alice)" http://127.0.0.1:{port}/api/alice/tasks' in output
    )

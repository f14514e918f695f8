"""A five-second soak: concurrent clients, then reconciliation of every acknowledged write."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import REPO


@pytest.mark.slow
def test_short_soak_loses_nothing(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    env.update(DATABASE_URL=database_url, APP_ENV="test", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "scripts.soak", "--seconds", "5", "--clients", "6", "--max-requests", "20000"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(result.stdout, result.stderr[-3000:])
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "nothing lost" in result.stdout

"""Real clients: Node.js programs (tests/clients/package.json, pinned by package-lock.json and
installed by `make client-deps`) and Debian's chromium, against servers these fixtures start.

Only where Node.js or chromium is missing do those tests skip, saying which is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clients.cdp import Page, browser, chromium_path

CLIENTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if CLIENTS in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.clients)


REPO = CLIENTS.parents[1]
NODE_MODULES = CLIENTS / "node_modules"


_handed_out: set[int] = set()


def free_port() -> int:
    """A free loopback port, never the same twice in a run: from TEST_PORTS ("8130-8149") when
    set, else one the OS picks."""
    spec = os.environ.get("TEST_PORTS", "")
    low, _, high = spec.partition("-")
    candidates = range(int(low), int(high or low) + 1) if low else [0] * 20
    for candidate in candidates:
        if candidate in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port = int(probe.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port left (TEST_PORTS={spec!r})")


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with the pinned packages installed (by the Makefile's target)."""
    executable = shutil.which("node")
    if executable is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: the generated-client and Better Auth tests need it")
    subprocess.run(["make", "-s", "client-deps"], cwd=REPO, check=True)
    if not (NODE_MODULES / ".bin" / "tsc").exists():
        pytest.fail("make client-deps did not install tests/clients/node_modules")
    return executable


@pytest.fixture(scope="session")
def chromium() -> str:
    subprocess.run(["bash", "scripts/install_chromium.sh"], cwd=REPO, check=True)
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (scripts/install_chromium.sh installs it as root on Debian)")
    return executable


@pytest.fixture
def page(chromium: str) -> Iterator[Page]:
    with browser(free_port()) as opened:
        yield opened


@dataclass
class LiveServer:
    base: str
    process: subprocess.Popen[str]


def start_server(database_url: str, **env: str) -> LiveServer:
    """`scripts/serve.py` (what `make run` runs) on a free port, against the test database."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "CORS_"))}
    environment.update(PYTHONPATH=str(REPO), APP_ENV="local", DATABASE_URL=database_url, PORT=str(port), **env)
    process = subprocess.Popen(
        [sys.executable, "scripts/serve.py"],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.communicate()[0]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return LiveServer(base, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not answer /health within 60 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.communicate()


@pytest.fixture(scope="session")
def live_server(migrated_database: str) -> Iterator[LiveServer]:
    """The service as `make run` serves it: APP_ENV=local with its default settings (the
    development secret, CORS for http://localhost:3000)."""
    server = start_server(migrated_database)
    yield server
    stop_server(server)

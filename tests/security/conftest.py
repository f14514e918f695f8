"""Shared helpers for the adversarial suite: a recording HTTP server and a JWKS server on loopback."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared.models.task import PUBLIC_FIELDS

TASK_FIELDS = set(PUBLIC_FIELDS)
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id", "errors"}


class RecordingServer:
    """Answers every GET with a fixed JSON document and records the paths it was asked for."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or {}
        self.hits: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                recorder.hits.append(self.path)
                body = json.dumps(recorder.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recording_server() -> Iterator[Callable[..., RecordingServer]]:
    servers: list[RecordingServer] = []

    def start(document: dict[str, Any] | None = None) -> RecordingServer:
        server = RecordingServer(document).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, for headers and algorithms a library would refuse to produce."""
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(signature)])


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert set(body) <= PROBLEM_FIELDS
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_not_5xx(response: Any) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers

"""A JWKS server on loopback: serves JSON documents by path and records every request."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JWKSServer:
    """Serves `documents[path]` as JSON (404 for other paths, or `default` for every path when
    given) and records each requested path, in order (`paths`) and counted (`hits`)."""

    def __init__(self, default: dict[str, Any] | None = None) -> None:
        self.documents: dict[str, bytes] = {}
        self.default = None if default is None else json.dumps(default).encode()
        self.paths: list[str] = []
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.paths.append(self.path)
                server.hits[self.path] += 1
                document = server.documents.get(self.path, server.default)
                body = document if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def url(self, path: str = "") -> str:
        return self.base + path

    def serve(self, path: str, *jwks: dict[str, Any]) -> None:
        """A JWKS of these keys at `path`."""
        self.documents[path] = json.dumps({"keys": list(jwks)}).encode()

    def start(self) -> JWKSServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

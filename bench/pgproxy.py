"""A counting TCP proxy in front of PostgreSQL, run as its own process (outside the app).

It forwards bytes unchanged and parses both directions of the wire protocol:
- server -> client: every ReadyForQuery ('Z') is one round trip the client waited for
  (a simple-query message carrying several statements yields one 'Z'; a separate BEGIN
  or COMMIT yields its own);
- client -> server: the text of every Query ('Q') and Parse ('P') message is kept, so the
  benchmark can replay the exact SQL the app sent.

Control: one line per TCP connection to the control port. `MARK` answers a JSON object
{"z": <ReadyForQuery count since start>, "connections": <accepted>, "queries": [<SQL since the
previous MARK>]} and clears the query list. The proxy counts a 'Z' before forwarding it, so by the
time the client has read it the count is already visible. `DELAY <ms>` makes the proxy hold
everything the server sends for that long from the moment it arrived (a delay line, as a network
of that latency would: each round trip costs one delay, however its reply is split into packets),
from then on, for every connection; it answers {"delay_ms": <ms>}.

Usage: python bench/pgproxy.py HOST PORT | python bench/pgproxy.py unix:/dir/.s.PGSQL.5432
(prints {"port": P, "control": C}; listens on 127.0.0.1 only)
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import struct
import sys
import threading
import time
from typing import Any

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102

_lock = threading.Lock()
_state = {"z": 0, "connections": 0}
_delay = {"seconds": 0.0}
_queries: list[str] = []


class _Connection:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.single_byte_replies = 0  # answers to SSLRequest/GSSENCRequest: one untyped byte
        self.reply_lock = threading.Lock()
        # Every server chunk goes through the delay line, even at 0 ms, so that the proxy's own
        # cost is the same whatever the delay.
        self.outbox: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()
        threading.Thread(target=self.deliver, daemon=True).start()

    def deliver(self) -> None:
        try:
            while (item := self.outbox.get()) is not None:
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            self.close()

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def client_to_server(self) -> None:
        buffer = b""
        startup = True
        try:
            while True:
                data = self.client.recv(65536)
                if not data:
                    return
                buffer += data
                while True:
                    if startup:
                        if len(buffer) < 8:
                            break
                        (length,) = struct.unpack("!I", buffer[:4])
                        if len(buffer) < length:
                            break
                        (code,) = struct.unpack("!I", buffer[4:8])
                        if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                            with self.reply_lock:
                                self.single_byte_replies += 1
                        elif code != _CANCEL_REQUEST:
                            startup = False
                        buffer = buffer[length:]
                        continue
                    if len(buffer) < 5:
                        break
                    kind = buffer[:1]
                    (length,) = struct.unpack("!I", buffer[1:5])
                    if len(buffer) < 1 + length:
                        break
                    body = buffer[5 : 1 + length]
                    if kind == b"Q":
                        text = body.rstrip(b"\0").decode("utf-8", "replace")
                        with _lock:
                            _queries.append(text)
                    elif kind == b"P":
                        name_end = body.index(b"\0")
                        text_end = body.index(b"\0", name_end + 1)
                        with _lock:
                            _queries.append(body[name_end + 1 : text_end].decode("utf-8", "replace"))
                    buffer = buffer[1 + length :]
                self.upstream.sendall(data)
        except OSError:
            return
        finally:
            self.close()

    def server_to_client(self) -> None:
        buffer = b""
        try:
            while True:
                data = self.upstream.recv(65536)
                if not data:
                    return
                buffer += data
                while buffer:
                    with self.reply_lock:
                        if self.single_byte_replies:
                            self.single_byte_replies -= 1
                            buffer = buffer[1:]
                            continue
                    if len(buffer) < 5:
                        break
                    (length,) = struct.unpack("!I", buffer[1:5])
                    if len(buffer) < 1 + length:
                        break
                    if buffer[:1] == b"Z":
                        with _lock:
                            _state["z"] += 1
                    buffer = buffer[1 + length :]
                self.outbox.put((time.monotonic() + _delay["seconds"], data))
        except OSError:
            return
        finally:
            self.outbox.put(None)  # the delivery thread sends what is queued, then stops


def _connect(upstream: str | tuple[str, int]) -> socket.socket:
    if isinstance(upstream, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(upstream)
        return sock
    sock = socket.create_connection(upstream)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _serve_proxy(listener: socket.socket, upstream: str | tuple[str, int]) -> None:
    while True:
        client, _ = listener.accept()
        server = _connect(upstream)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with _lock:
            _state["connections"] += 1
        connection = _Connection(client, server)
        threading.Thread(target=connection.client_to_server, daemon=True).start()
        threading.Thread(target=connection.server_to_client, daemon=True).start()


def _serve_control(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            line = conn.makefile("rb").readline().strip()
            if line == b"MARK":
                with _lock:
                    answer = {**_state, "queries": list(_queries)}
                    _queries.clear()
                conn.sendall(json.dumps(answer).encode() + b"\n")
            elif line.startswith(b"DELAY "):
                _delay["seconds"] = float(line.split()[1]) / 1000
                conn.sendall(json.dumps({"delay_ms": _delay["seconds"] * 1000}).encode() + b"\n")


def mark(control_port: int) -> dict[str, Any]:
    """Client side of the control protocol (used by the benchmark worker)."""
    with socket.create_connection(("127.0.0.1", control_port)) as conn:
        conn.sendall(b"MARK\n")
        data = conn.makefile("rb").readline()
    result: dict[str, Any] = json.loads(data)
    return result


def set_delay(control_port: int, milliseconds: float) -> None:
    with socket.create_connection(("127.0.0.1", control_port)) as conn:
        conn.sendall(f"DELAY {milliseconds}\n".encode())
        conn.makefile("rb").readline()


def main() -> None:
    upstream: str | tuple[str, int]
    upstream = sys.argv[1][len("unix:") :] if sys.argv[1].startswith("unix:") else (sys.argv[1], int(sys.argv[2]))
    listener = socket.create_server(("127.0.0.1", 0))
    control = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve_control, args=(control,), daemon=True).start()
    print(json.dumps({"port": listener.getsockname()[1], "control": control.getsockname()[1]}), flush=True)
    # Stops when its parent closes stdin (or is killed): it never outlives the benchmark.
    threading.Thread(target=_serve_proxy, args=(listener, upstream), daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()

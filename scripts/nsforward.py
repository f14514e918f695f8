"""TCP forwarding between the host's network namespace and the project's own (sam local's).

A socket belongs to the network namespace it was created in, whatever namespace the thread moves
to afterwards. So one process can listen in one namespace and connect in another: the socket is
created after setns(2) into the namespace it must live in, and the thread returns at once. Used
both ways: the host's loopback port to sam's API inside the namespace, and the containers' gateway
inside the namespace to the host's PostgreSQL (a TCP address or a Unix socket).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_setns_lock = threading.Lock()


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


@contextlib.contextmanager
def in_namespace(netns: str | None) -> Iterator[None]:
    """Run the block with this thread in the namespace at path netns (None: stay where it is)."""
    if netns is None:
        yield
        return
    with _setns_lock:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(netns, os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)


@dataclass(frozen=True)
class Endpoint:
    """host:port or unix:/path, in the namespace at netns (None: the process's own)."""

    address: str
    netns: str | None = None

    def _family(self) -> tuple[int, str | tuple[str, int]]:
        if self.address.startswith("unix:"):
            return socket.AF_UNIX, self.address[len("unix:") :]
        host, _, port = self.address.rpartition(":")
        return socket.AF_INET, (host, int(port))

    def listen(self) -> socket.socket:
        family, address = self._family()
        with in_namespace(self.netns):
            server = socket.socket(family, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(address)
        server.listen(64)
        return server

    def connect(self, timeout: float = 5.0) -> socket.socket:
        family, address = self._family()
        with in_namespace(self.netns):
            client = socket.socket(family, socket.SOCK_STREAM)
        client.settimeout(timeout)
        try:
            client.connect(address)
        except OSError:
            client.close()
            raise
        client.settimeout(None)
        return client


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _serve_one(accepted: socket.socket, target: Endpoint) -> None:
    try:
        upstream = target.connect()
    except OSError:
        accepted.close()
        return
    back = threading.Thread(target=_pipe, args=(upstream, accepted), daemon=True)
    back.start()
    _pipe(accepted, upstream)
    back.join()
    accepted.close()
    upstream.close()


class Forwarder:
    """Accepts on `listen` and relays every connection to `target`, each in its own threads."""

    def __init__(self, listen: Endpoint, target: Endpoint) -> None:
        self.target = target
        self.server = listen.listen()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                accepted, _ = self.server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=_serve_one, args=(accepted, self.target), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()

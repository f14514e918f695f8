"""The plumbing of `make local-api` that runs without root: the TCP forwarder (here within one
namespace; across namespaces it is exercised by `make test-sam-local`) and how a database URL is
split into what the forwarder reaches and what the container is given."""

from __future__ import annotations

import socket
import threading

from scripts.local_api import container_database_url, database_target
from scripts.nsforward import Endpoint, Forwarder


def _echo_server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_the_forwarder_relays_both_ways_and_keeps_connections_apart() -> None:
    server, port = _echo_server()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free_port = probe.getsockname()[1]
    probe.close()
    forwarder = Forwarder(Endpoint(f"127.0.0.1:{free_port}"), Endpoint(f"127.0.0.1:{port}"))
    try:
        clients = [socket.create_connection(("127.0.0.1", free_port), timeout=5) for _ in range(3)]
        payload = b"x" * 200_000
        for n, client in enumerate(clients):
            client.sendall(payload + str(n).encode())
            client.shutdown(socket.SHUT_WR)
        for n, client in enumerate(clients):
            received = b""
            while chunk := client.recv(65536):
                received += chunk
            assert received == (payload + str(n).encode()).upper()
            client.close()
    finally:
        forwarder.close()
        server.close()


def test_a_unix_socket_url_is_forwarded_to_the_socket_file() -> None:
    target, rest = database_target("postgresql://postgres:@/postgres?host=/tmp/pg-data")
    assert target == Endpoint("unix:/tmp/pg-data/.s.PGSQL.5432")
    assert container_database_url(rest) == "postgresql://postgres:@host.docker.internal:5432/postgres"


def test_a_tcp_url_keeps_its_credentials_database_and_options() -> None:
    target, rest = database_target("postgres://app:p%40ss@127.0.0.1:6543/tasks?sslmode=disable")
    assert target == Endpoint("127.0.0.1:6543")
    assert container_database_url(rest) == "postgresql://app:p%40ss@host.docker.internal:5432/tasks?sslmode=disable"

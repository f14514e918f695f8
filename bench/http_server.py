"""One uvicorn server for bench/http.py: `python -m bench.http_server app|hello PORT [OPTIONS_JSON]`.

Served exactly as `make run` serves the app (scripts/serve.py's uvicorn_options), plus OPTIONS_JSON
(the variants the benchmark compares, e.g. {"http": "httptools"}). A thread that is idle except
when asked answers each connection to 127.0.0.1:PORT+10 with the process's CPU seconds so far
(time.process_time: every thread, nanosecond resolution), so the benchmark need not read clock ticks.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

import uvicorn
from fastapi import FastAPI
from scripts.serve import uvicorn_options

hello = FastAPI()


@hello.get("/hello")
async def hello_route() -> dict[str, str]:
    return {"hello": "world"}


def serve_cpu_time(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        connection, _ = listener.accept()
        with connection:
            connection.sendall(f"{time.process_time()}\n".encode())


def main() -> None:
    target, port = sys.argv[1], int(sys.argv[2])
    threading.Thread(target=serve_cpu_time, args=(port + 10,), daemon=True).start()
    options = {"host": "127.0.0.1", **uvicorn_options(), **(json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})}
    if target == "app":
        uvicorn.run("functions.api.app:create_app", factory=True, port=port, **options)
    else:
        uvicorn.run(hello, port=port, **options)


if __name__ == "__main__":
    main()

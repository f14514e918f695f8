"""`make run`: serve the API on 127.0.0.1:$PORT.

With DATABASE_URL unset, start an embedded PostgreSQL under .data/ (DEVDB_DIR to change) and
migrate it (only then: a real database is migrated by `make migrate`, as a deploy step). However
the service ends (Ctrl-C, SIGTERM, the terminal closing), the embedded server is stopped with it.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import devdb  # noqa: E402

_server: Any = None  # the running uvicorn.Server, once there is one
_signalled: list[int] = []


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP end the service like Ctrl-C does: through the `finally` that stops the
    embedded database (Python's default for both is to die on the spot, skipping it)."""
    _signalled.append(signum)
    if _server is not None:
        _server.should_exit = True  # uvicorn's own graceful shutdown; main() returns after it
        return
    raise SystemExit(128 + signum)


def _listen(port: int) -> socket.socket:
    """The listening socket, bound before anything starts: a port in use is said first."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as error:
        listener.close()
        print(
            f"make run: port {port} on 127.0.0.1 is already in use ({error.strerror}); "
            "stop whatever holds it, or choose another: make run PORT=8001",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    return listener


def main() -> None:
    global _server
    os.environ.setdefault("APP_ENV", "local")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    from shared.config import Settings

    port = Settings().port
    listener = _listen(port)
    database = None
    try:
        if not os.environ.get("DATABASE_URL"):
            data_dir = Path(os.environ.get("DEVDB_DIR") or devdb.REPO / ".data" / "pg")
            database = devdb.start(data_dir, keep=True)
            os.environ["DATABASE_URL"] = devdb.url_of(database)
            from alembic import command
            from alembic.config import Config

            config = Config(str(devdb.REPO / "alembic.ini"))
            config.attributes["configure_logging"] = False
            command.upgrade(config, "head")
            print(f"embedded PostgreSQL ready and migrated (data in {data_dir})")

        import uvicorn

        base = f"http://127.0.0.1:{port}"
        print(
            f"\nTasks API on {base}  (docs: {base}/docs)\n"
            "get a development token:  make token USER=alice\n"
            f'try it:  curl -H "Authorization: Bearer $(make -s token USER=alice)" {base}/api/alice/tasks\n',
            flush=True,
        )
        config = uvicorn.Config("functions.api.app:create_app", factory=True, log_level="warning")
        _server = uvicorn.Server(config)
        _server.run(sockets=[listener])
    finally:
        _server = None
        listener.close()
        if database is not None:
            devdb.stop(database)
    if _signalled:
        raise SystemExit(128 + _signalled[0])


if __name__ == "__main__":
    main()

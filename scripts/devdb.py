"""An embedded PostgreSQL for local runs and tests, from the pgserver package (real binaries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def start(data_dir: Path, *, keep: bool) -> Any:
    """Start (or reuse) a server in data_dir; returns the pgserver handle (`.get_uri()`)."""
    import pgserver  # development dependency only

    data_dir.mkdir(parents=True, exist_ok=True)
    with pgserver.postgres_server.PostgresServer._lock:
        _forget_dead_handles(data_dir)
    return pgserver.get_server(data_dir, cleanup_mode="stop" if keep else "delete")


def stop(server: Any) -> None:
    """Release this process's handle: the server stops when no other live process holds one."""
    server.cleanup()


def _forget_dead_handles(data_dir: Path) -> None:
    """pgserver counts the processes using a server in a file and stops it with the last one. A
    process that died without saying so (SIGKILL, a crash) stays in it, and the server would never
    stop again: drop every entry that is not a live Python process (and an unreadable file)."""
    import psutil  # comes with pgserver

    path = data_dir / ".handle_pids.json"
    if not path.exists():
        return
    try:
        entries = json.loads(path.read_text())
        pids = [pid for pid in entries if isinstance(pid, int)] if isinstance(entries, list) else []
    except (OSError, ValueError):
        pids = []
    live = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE and process.name().startswith("python"):
                live.append(pid)
        except psutil.Error:
            continue
    path.write_text(json.dumps(live))


def url_of(server: Any, database: str = "postgres") -> str:
    uri: str = server.get_uri(database)
    return uri

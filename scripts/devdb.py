"""An embedded PostgreSQL for local runs and tests, from the pgserver package (real binaries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def start(data_dir: Path, *, keep: bool) -> Any:
    """Start (or reuse) a server in data_dir; returns the pgserver handle (`.get_uri()`)."""
    import pgserver  # development dependency only

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode="stop" if keep else "delete")


def url_of(server: Any, database: str = "postgres") -> str:
    uri: str = server.get_uri(database)
    return uri

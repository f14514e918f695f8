"""`make run`: serve the API on 127.0.0.1:$PORT.

With DATABASE_URL unset, start an embedded PostgreSQL under .data/ and migrate it (only then:
a real database is migrated by `make migrate`, as a deploy step).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import devdb  # noqa: E402


def uvicorn_options() -> dict[str, Any]:
    """How `make run` serves the app (bench/http.py serves it, and its floor, the same way).
    No access log: at log level warning uvicorn would build each access line only to drop it."""
    return {"host": "127.0.0.1", "log_level": "warning", "access_log": False}


def main() -> None:
    os.environ.setdefault("APP_ENV", "local")
    server = None
    if not os.environ.get("DATABASE_URL"):
        server = devdb.start(devdb.REPO / ".data" / "pg", keep=True)
        os.environ["DATABASE_URL"] = devdb.url_of(server)
        from alembic import command
        from alembic.config import Config

        config = Config(str(devdb.REPO / "alembic.ini"))
        config.attributes["configure_logging"] = False
        command.upgrade(config, "head")
        print("embedded PostgreSQL ready and migrated (data in .data/pg)")

    import uvicorn

    from shared.config import get_settings

    settings = get_settings()
    base = f"http://127.0.0.1:{settings.port}"
    print(
        f"\nTasks API on {base}  (docs: {base}/docs)\n"
        "get a development token:  make token USER=alice\n"
        f'try it:  curl -H "Authorization: Bearer $(make -s token USER=alice)" {base}/api/alice/tasks\n',
        flush=True,
    )
    uvicorn.run("functions.api.app:create_app", factory=True, port=settings.port, **uvicorn_options())


if __name__ == "__main__":
    main()

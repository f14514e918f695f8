"""pyinstrument summaries, and the switch that makes FastAPI's threadpool work visible to it.

FastAPI runs sync dependencies and sync endpoints through anyio.to_thread.run_sync; pyinstrument
samples only the thread it was started on, so that work shows up as the loop thread waiting in
epoll. For a breakdown the benchmark also profiles with that call made inline (`inline_threads`).
"""

from __future__ import annotations

import sysconfig
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread

REPO = Path(__file__).resolve().parent.parent
STDLIB = sysconfig.get_paths()["stdlib"] + "/"
Shares = list[tuple[str, float]]


def package_of(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for top in ("functions", "shared"):
        if path.startswith(f"{REPO}/{top}/"):
            return f"app:{top}"
    if path.startswith(f"{REPO}/"):
        return path[len(str(REPO)) + 1 :].split("/", 1)[0]
    if path.startswith(STDLIB):
        return "stdlib:" + path[len(STDLIB) :].split("/", 1)[0].removesuffix(".py")
    return path


def summarize(session: Any, top: int = 12) -> dict[str, Any]:
    """Shares of the sampled time: self time by function and by package, cumulative time of app
    frames, and of library frames called directly by app code. A built-in counts for the package
    that called it; SQLAlchemy's do_execute is the psycopg2 cursor.execute call (the database wait)."""
    by_function: dict[str, float] = {}
    by_package: dict[str, float] = {}
    app_cumulative: dict[str, float] = {}
    called_from_app: dict[str, float] = {}
    stack: list[str] = []

    def add(table: dict[str, float], key: str, value: float) -> None:
        table[key] = table.get(key, 0.0) + value

    def walk(frame: Any, caller_package: str) -> None:
        source = frame
        if frame.is_synthetic and not frame.children:
            source = getattr(frame, "parent", None) or frame
        path = source.file_path or ""
        package = caller_package if not path or path.startswith("<") else package_of(path)
        if source.function == "do_execute" and "sqlalchemy/engine" in path:
            package = "db wait (psycopg2 cursor.execute)"
        label = f"{source.function} ({Path(path).name}:{source.line_no})"
        self_time = frame.time - sum(child.time for child in frame.children)
        if self_time > 0:
            add(by_function, label, self_time)
            add(by_package, package, self_time)
        counted = not frame.is_synthetic and label not in stack  # recursion counts once
        if counted:
            caller = stack[-1] if stack else ""
            if package.startswith("app:"):
                add(app_cumulative, label, frame.time)
            elif caller_package.startswith("app:") and "(middleware.py:" not in caller:
                # (the edge middleware calling the rest of the app is no library call worth listing)
                add(called_from_app, f"{label} [{package}]", frame.time)
            stack.append(label)
        for child in frame.children:
            walk(child, package)
        if counted:
            stack.pop()

    root = session.root_frame()
    total = root.time if root is not None else 0.0
    if root is not None:
        walk(root, "?")

    def share(table: dict[str, float]) -> Shares:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [(key, round(value / total, 4)) for key, value in ranked]

    return {
        "seconds": total,
        "top_self": share(by_function),
        "by_package": share(by_package),
        "app_frames_cumulative": share(app_cumulative),
        "called_from_app_cumulative": share(called_from_app),
    }


@contextmanager
def inline_threads(enabled: bool = True) -> Iterator[None]:
    """Run anyio.to_thread.run_sync's function on the calling (loop) thread. Measurement only."""
    if not enabled:
        yield
        return
    original = anyio.to_thread.run_sync

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


@contextmanager
def counting_thread_hops() -> Iterator[list[int]]:
    """Counts anyio.to_thread.run_sync calls (threadpool hops) made inside the block."""
    original = anyio.to_thread.run_sync
    hops = [0]

    async def counting(*args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await original(*args, **kwargs)

    anyio.to_thread.run_sync = counting  # type: ignore[assignment]
    try:
        yield hops
    finally:
        anyio.to_thread.run_sync = original

"""CloudWatch metrics as embedded metric format (EMF) lines on stdout: no SDK, no API call.

Per request the access log already has the route, status and duration; a second, EMF line per
request would double the log volume for values a metric filter could take from that line. So each
container aggregates per route and writes one EMF document per route when the window closes (the
first request ending WINDOW_SECONDS after the last flush), when a route holds MAX_VALUES values
(the specification's limit for a value array), and on the keep-warm invocation. Latency and
database time stay individual values (EMF arrays), so CloudWatch's percentiles are exact. A quiet
container flushes with every request, so a low-traffic install sees its metrics at once; at most
one window of a busy container is lost when Lambda reclaims it.

Emitted only when deployed (APP_ENV dev or prod). Dimension values are route templates such as
``GET /api/{user_id}/tasks/{task_id}``: never a user id, task content or a token.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from shared.config import get_settings

NAMESPACE = "TasksApi"
WINDOW_SECONDS = 60.0
MAX_VALUES = 100
NO_ROUTE = "(none)"  # rejected at the edge (401, 403, 413, 415) or no route matched (404, 405)
ROUTE_METRICS = (
    {"Name": "Requests", "Unit": "Count"},
    {"Name": "Errors5xx", "Unit": "Count"},
    {"Name": "Latency", "Unit": "Milliseconds"},
    {"Name": "DatabaseTime", "Unit": "Milliseconds"},
)

# The request's database time; a one-element list so that threadpool copies of the context add to it.
_database_seconds: ContextVar[list[float] | None] = ContextVar("tasks_api_database_seconds", default=None)
_STARTED = "tasks_api_statement_started"


@event.listens_for(Engine, "before_cursor_execute")
def _statement_started(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
    conn.info[_STARTED] = time.perf_counter()


@event.listens_for(Engine, "after_cursor_execute")
def _statement_ended(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
    started = conn.info.pop(_STARTED, None)
    total = _database_seconds.get()
    if started is not None and total is not None:
        total[0] += time.perf_counter() - started


@dataclass
class _RouteStats:
    requests: int = 0
    errors: int = 0
    latency: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)


class Recorder:
    """Aggregates requests per route and writes EMF documents through ``write`` (one per line)."""

    def __init__(
        self,
        *,
        stage: str,
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        self.stage = stage
        self._write = write
        self._clock = clock
        self._window = window_seconds
        self._routes: dict[str, _RouteStats] = {}
        self._last_flush: float | None = None
        self._cold = True
        self._lock = threading.Lock()

    def record(self, *, route: str, status: int, duration_ms: float, database_ms: float) -> None:
        with self._lock:
            stats = self._routes.setdefault(route, _RouteStats())
            stats.requests += 1
            stats.errors += status >= 500
            stats.latency.append(round(duration_ms, 3))
            stats.database.append(round(database_ms, 3))
            now = self._clock()
            last = self._last_flush
            # now < last: a clock that moved back (e.g. after a snapshot restore) closes the window too.
            due = last is None or now - last >= self._window or now < last
            if due or len(stats.latency) >= MAX_VALUES:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        timestamp = int(time.time() * 1000)
        if self._cold:
            self._cold = False
            cold = self._document(timestamp, [["Stage"]], [{"Name": "ColdStart", "Unit": "Count"}], {"ColdStart": 1})
            self._write(_dumps(cold))
        for route, stats in self._routes.items():
            values = {
                "Route": route,
                "Requests": stats.requests,
                "Errors5xx": stats.errors,
                "Latency": stats.latency,
                "DatabaseTime": stats.database,
            }
            self._write(_dumps(self._document(timestamp, [["Stage", "Route"], ["Stage"]], list(ROUTE_METRICS), values)))
        self._routes = {}
        self._last_flush = self._clock()

    def _document(
        self, timestamp: int, dimensions: list[list[str]], metrics: list[dict[str, str]], values: dict[str, Any]
    ) -> dict[str, Any]:
        directive = {"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": metrics}
        return {"_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]}, "Stage": self.stage, **values}


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def _stdout_line(line: str) -> None:
    # Straight to stdout, not through logging: CloudWatch reads EMF only from a line that is the
    # JSON document itself, with no log prefix or wrapper.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


_recorder: Recorder | None = None
_configured = False


def get_recorder() -> Recorder | None:
    """The process's recorder, or None where metrics are off (APP_ENV local and test)."""
    global _recorder, _configured
    if not _configured:
        stage = get_settings().app_env
        _recorder = Recorder(stage=stage, write=_stdout_line) if stage in ("dev", "prod") else None
        _configured = True
    return _recorder


def set_recorder(recorder: Recorder | None) -> None:
    """Replace the process's recorder (tests); None switches metrics off."""
    global _recorder, _configured
    _recorder, _configured = recorder, True


def start_request() -> None:
    _database_seconds.set([0.0])


def record_request(scope: MutableMapping[str, Any], status: int, started: float) -> None:
    """Called once per request from the access-log path, after the response was sent."""
    recorder = get_recorder()
    if recorder is None:
        return
    duration_ms = (time.perf_counter() - started) * 1000
    route = getattr(scope.get("route"), "path", None)
    name = f"{scope.get('method')} {route}" if route else NO_ROUTE
    database = _database_seconds.get()
    recorder.record(route=name, status=status, duration_ms=duration_ms, database_ms=(database or [0.0])[0] * 1000)


def flush() -> None:
    recorder = get_recorder()
    if recorder is not None:
        recorder.flush()

"""Observability without leaks (OWASP API10-adjacent, PITFALLS "never log tokens or connection
strings"): an adversarial batch runs with every logger at DEBUG; no record may carry a token, the
JWT secret, the database password or a connection string, and every request yields exactly one
access record with request_id, method, route template, status and duration_ms."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.support.tokens import make_token

SECRET = "log-test-secret-" + "q" * 40
PASSWORD = "s3cr3t-pw"
UNREACHABLE_URL = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/x"
CLIENT_SIDE_LOGGERS = ("httpx", "httpcore", "urllib3", "hpack")
ACCESS_FIELDS = {"request_id", "method", "route", "status", "duration_ms"}


def _rendered(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), repr(record.msg)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    standard = set(vars(logging.makeLogRecord({})))
    parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in standard]
    return "\n".join(parts)


def _access_line(record: logging.LogRecord) -> dict[str, Any]:
    """An access record's fields: attributes of the record (logging `extra`), never JSON in the
    message, so that Lambda's JSON log format carries them as fields beside its requestId."""
    assert not record.getMessage().lstrip().startswith("{"), record.getMessage()
    return {name: getattr(record, name) for name in ACCESS_FIELDS if hasattr(record, name)}


def _run_batch(client: Any, configure: Any, database_url: str, user: str) -> tuple[list[Any], list[str]]:
    """Returns the responses and the secrets that must never be logged."""
    configure(AUTH_JWT_SECRET=SECRET)
    good = make_token(user, secret=SECRET)
    expired = make_token(user, secret=SECRET, lifetime=-300)
    forged = make_token(user)  # signed with the development secret: wrong signature here
    none_alg = make_token(user, secret=None, algorithm="none")
    bearer = {"Authorization": f"Bearer {good}"}
    base = f"/api/{user}/tasks"
    responses = []
    responses.append(client.post(base, json={"title": "logged?", "description": "d"}, headers=bearer))
    task_id = responses[-1].json()["id"]
    responses += [
        client.get(base, headers=bearer),
        client.get(f"{base}/{task_id}", headers=bearer),
        client.patch(f"{base}/{task_id}", json={"title": "x\x00"}, headers=bearer),
        client.patch(f"{base}/{task_id}", json={"title": "y"}, headers={**bearer, "If-Match": '"0.0"'}),
        client.get(f"{base}/999999999", headers=bearer),
        client.get(base, params={"cursor": "forged-cursor"}, headers=bearer),
        client.get(base, headers={"Authorization": f"Bearer {expired}"}),
        client.get(base, headers={"Authorization": f"Bearer {forged}"}),
        client.get(base, headers={"Authorization": f"Bearer {none_alg}"}),
        client.get(base, headers={"Authorization": f"Basic {good}"}),
        client.get(base, params={"access_token": good}),
        client.get("/api/someone-else/tasks", headers=bearer),
        client.post(base, content=b"x" * (70 * 1024), headers={**bearer, "Content-Type": "application/json"}),
        client.post(base, content=b"<xml/>", headers={**bearer, "Content-Type": "application/xml"}),
        client.request("TRACE", base, headers=bearer),
        client.get("/health"),
        client.get("/nowhere"),
        client.post(base, content=b'{"title":"\\ud800"}', headers={**bearer, "Content-Type": "application/json"}),
    ]
    configure(DATABASE_URL=UNREACHABLE_URL, AUTH_JWT_SECRET=SECRET, DB_CONNECT_TIMEOUT_SECONDS="1")
    responses += [
        client.get(base, headers=bearer),
        client.post(base, json={"title": "t"}, headers={**bearer, "Idempotency-Key": "k-1"}),
        client.get("/health/ready"),
    ]
    configure(DATABASE_URL=database_url, AUTH_JWT_SECRET=None)
    token_parts = [p for t in (good, expired, forged, none_alg) for p in t.split(".") if len(p) > 10]
    secrets = [
        good,
        expired,
        forged,
        none_alg,
        SECRET,
        PASSWORD,
        UNREACHABLE_URL,
        database_url,
        "127.0.0.1:1",
        *token_parts,
    ]
    return responses, secrets


@pytest.fixture
def batch(client, configure, database_url, new_user, caplog) -> tuple[list[Any], list[str], list[logging.LogRecord]]:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger propagates here
    for name in (
        "tasks_api",
        "tasks_api.access",
        "sqlalchemy",
        "sqlalchemy.engine",
        "sqlalchemy.pool",
        "uvicorn",
        "jwt",
        "fastapi",
        "starlette",
        "alembic",
        "urllib",
    ):
        caplog.set_level(logging.DEBUG, logger=name)
    responses, secrets = _run_batch(client, configure, database_url, new_user())
    return responses, secrets, list(caplog.records)


def test_no_secret_appears_in_any_log_record(batch) -> None:
    responses, secrets, records = batch
    assert records, "nothing was logged at all"
    server_side = [r for r in records if not r.name.startswith(CLIENT_SIDE_LOGGERS)]
    for record in server_side:
        text = _rendered(record)
        for secret in secrets:
            assert secret not in text, f"{record.name} logged a secret: {text[:500]}"
        assert "postgresql://" not in text and "postgres://" not in text, text[:500]
        assert "Bearer " not in text, text[:500]


def test_exactly_one_access_line_per_request(batch) -> None:
    responses, _, records = batch
    lines = [_access_line(r) for r in records if r.name == "tasks_api.access"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        assert set(line) >= ACCESS_FIELDS, line
        by_id.setdefault(line["request_id"], []).append(line)
    assert len(lines) == len(responses)
    for response in responses:
        request_id = response.headers["x-request-id"]
        assert len(by_id.get(request_id, [])) == 1, (request_id, response.request.method, response.request.url.path)
        line = by_id[request_id][0]
        assert line["status"] == response.status_code
        assert line["method"] == response.request.method
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
        path = response.request.url.path
        if (
            path.startswith("/api/")
            and response.status_code >= 200
            and response.status_code not in (401, 403, 413, 415)
        ):
            # Matched a route: its template, never the concrete path with user id or task id.
            assert (line["route"] or "").startswith("/api/{user_id}/tasks"), line
        elif path.startswith("/health"):
            assert line["route"] == path, line
        assert "?" not in (line["route"] or "")


def test_access_lines_name_the_template_not_the_user(batch) -> None:
    responses, _, records = batch
    lines = [_access_line(r) for r in records if r.name == "tasks_api.access"]
    user_paths = {r.request.url.path.split("/")[2] for r in responses if r.request.url.path.startswith("/api/")}
    for line in lines:
        for user in user_paths:
            assert user not in json.dumps(line), line


def test_errors_are_logged_with_their_request_id(batch) -> None:
    """Each 5xx / 503 gets a log record (besides the access line) that carries the request id, so
    an operator can go from a client's problem+json `request_id` to the cause."""
    responses, _, records = batch
    failing_ids = {r.headers["x-request-id"] for r in responses if r.status_code >= 500}
    assert failing_ids
    tagged = {getattr(r, "request_id", None) for r in records if r.name != "tasks_api.access"}
    missing = failing_ids - tagged
    assert not missing, (
        f"{len(missing)} of {len(failing_ids)} failed requests have no error record carrying their request_id"
    )

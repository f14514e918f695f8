"""Traces and logs carry the request id and route templates, never task content or tokens.

Tracing is the runtime's own X-Ray integration (template.yaml, Tracing: Active): it records the
invocation, not the request, and no X-Ray SDK is imported (checked in a clean interpreter). What
the function itself writes (log records at DEBUG from every logger, stdout/stderr, EMF lines) is
checked here for the titles, descriptions, tags, search text, idempotency keys and tokens of a
batch of requests that create, read, search, update and fail.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid

from functions.api import metrics
from tests.functions.lambda_events import V2, load_event, with_body, with_header, with_query
from tests.support import REPO
from tests.support.lambda_context import FakeLambdaContext
from tests.support.tokens import make_token

MARK = uuid.uuid4().hex[:10]
TITLE = f"Secret plan {MARK}"
DESCRIPTION = f"Description {MARK} with details"
TAG = f"tag{MARK}"
QUERY = f"plan {MARK}"
IDEMPOTENCY_KEY = f"key-{MARK}"
NEW_TITLE = f"Renamed {MARK}"


def _invoke(event):
    from functions.api.handler import handler

    request_id = str(uuid.uuid4())
    return request_id, handler(event, FakeLambdaContext(request_id))


def test_no_task_content_or_token_reaches_logs_stdout_or_metrics(caplog, capfd, monkeypatch, new_user, configure):
    configure(AWS_LAMBDA_FUNCTION_NAME="tasks-api-test")
    emf: list[str] = []
    monkeypatch.setattr(metrics, "_recorder", metrics.Recorder(stage="prod", write=emf.append))
    monkeypatch.setattr(metrics, "_configured", True)
    # The root at DEBUG, as Lambda sets it for ApplicationLogLevel DEBUG; the app's loggers too.
    caplog.set_level(logging.DEBUG)
    for name in ("tasks_api", "tasks_api.access"):
        caplog.set_level(logging.DEBUG, logger=name)
    user = new_user()
    token = make_token(user)
    body = json.dumps({"title": TITLE, "description": DESCRIPTION, "tags": [TAG]}).encode()
    create = with_header(
        with_body(load_event(f"{V2}_post_task", user=user, token=token), body, "application/json"),
        "idempotency-key",
        IDEMPOTENCY_KEY,
    )
    request_ids = []
    request_id, created = _invoke(create)
    assert created["statusCode"] == 201, created
    request_ids.append(request_id)
    task_id = json.loads(created["body"])["id"]
    calls = [
        create,  # the replay
        with_query(load_event(f"{V2}_get_tasks_priorities", user=user, token=token), [("q", QUERY)], f"q={QUERY}"),
        load_event(f"{V2}_get_task", user=user, token=token, task_id=str(task_id)),
        with_body(
            load_event(f"{V2}_patch_task", user=user, token=token, task_id=str(task_id)),
            json.dumps({"title": NEW_TITLE}).encode(),
            "application/json",
        ),
        with_body(  # a validation error that names the field
            load_event(f"{V2}_patch_task", user=user, token=token, task_id=str(task_id)),
            json.dumps({"title": "x" * 300 + MARK}).encode(),
            "application/json",
        ),
        load_event(f"{V2}_get_task", user=user, token=token + "x", task_id=str(task_id)),  # a forged token
    ]
    statuses = []
    for event in calls:
        request_id, response = _invoke(event)
        statuses.append(response["statusCode"])
        request_ids.append(request_id)
        assert response["headers"]["x-request-id"] == request_id
    assert statuses == [201, 200, 200, 200, 422, 401]
    metrics.flush()
    out, err = capfd.readouterr()

    records = [r for r in caplog.records]
    access = [r for r in records if r.name == "tasks_api.access"]
    assert [getattr(r, "request_id", None) for r in access] == request_ids  # the correlation id
    written = [r.getMessage() + repr(vars(r)) for r in records] + emf + [out, err]
    for text in written:
        for secret in (MARK, TITLE, DESCRIPTION, TAG, IDEMPOTENCY_KEY, token, token.split(".")[1], user):
            assert secret not in text, text[:400]


def test_sql_errors_and_logs_never_carry_bound_values():
    from shared.db import get_engine

    assert get_engine().hide_parameters is True


def test_the_handler_imports_no_tracing_sdk():
    """X-Ray comes from the runtime (Tracing: Active); an SDK would add to every cold start. (FastAPI
    imports the no-op opentelemetry API; without an SDK it records nothing.)"""
    probe = (
        "import json, sys\n"
        "import functions.api.handler as h\n"
        "print(h.handler(dict(h.KEEP_WARM_EVENT), None))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
        "('aws_xray_sdk', 'aws_lambda_powertools', 'opentelemetry.sdk', 'opentelemetry.exporter')))))\n"
    )
    env = {"PYTHONPATH": str(REPO), "APP_ENV": "test", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    warm, modules = result.stdout.strip().splitlines()[-2:]
    assert warm == "{'status': 'warm'}"
    assert json.loads(modules) == []
    requirements = (REPO / "requirements.txt").read_text().lower()
    assert "xray" not in requirements and "powertools" not in requirements

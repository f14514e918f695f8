"""The scheduled keep-warm invocation (template.yaml, KeepWarm): answered by the handler itself,
without the app or the database, and only for its exact payload."""

from __future__ import annotations

import json
import uuid

import pytest

import shared.db
from functions.api import metrics
from functions.api.handler import KEEP_WARM_EVENT
from tests.functions.lambda_events import V2, load_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.tokens import make_token

UNREACHABLE_URL = "postgresql://postgres:pw@127.0.0.1:1/x"


def test_the_keep_warm_event_is_answered_without_touching_the_database(lambda_handler, configure) -> None:
    configure(DATABASE_URL=UNREACHABLE_URL)  # also forgets the engine
    assert shared.db._engine is None
    response = lambda_handler(dict(KEEP_WARM_EVENT), FakeLambdaContext(str(uuid.uuid4())))
    assert response == {"status": "warm"}
    assert shared.db._engine is None, "the keep-warm call created a database engine"


def test_the_keep_warm_event_flushes_pending_metrics(lambda_handler, monkeypatch, new_user) -> None:
    lines: list[str] = []
    now = [0.0]
    recorder = metrics.Recorder(stage="dev", write=lines.append, clock=lambda: now[0])
    monkeypatch.setattr(metrics, "_recorder", recorder)
    monkeypatch.setattr(metrics, "_configured", True)
    user = new_user()
    get_health = load_event(f"{V2}_get_health", user=user, token=make_token(user))
    for _ in range(3):
        assert lambda_handler(get_health, FakeLambdaContext(str(uuid.uuid4())))["statusCode"] == 200
    assert sum(json.loads(line).get("Requests", 0) for line in lines) == 1  # the rest wait for the window
    lambda_handler(dict(KEEP_WARM_EVENT), FakeLambdaContext(str(uuid.uuid4())))
    assert sum(json.loads(line).get("Requests", 0) for line in lines) == 3


@pytest.mark.parametrize(
    "event",
    [{**KEEP_WARM_EVENT, "extra": 1}, {"tasks-api": "keep-warm "}, {"detail-type": "Scheduled Event"}],
)
def test_only_the_exact_keep_warm_payload_is_special(lambda_handler, event) -> None:
    # Anything else goes to Mangum, which refuses an event that is not an API Gateway one.
    with pytest.raises(RuntimeError):
        lambda_handler(event, FakeLambdaContext(str(uuid.uuid4())))


def test_an_http_request_whose_body_is_the_keep_warm_payload_is_an_ordinary_request(invoke, new_user) -> None:
    user = new_user()
    event = load_event(f"{V2}_post_task", user=user, token=make_token(user))
    event["body"] = json.dumps(KEEP_WARM_EVENT)
    event["headers"]["content-length"] = str(len(event["body"]))
    call = invoke(event)
    assert call.status == 422

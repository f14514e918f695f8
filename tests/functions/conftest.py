"""The real Lambda entry (functions.api.handler.handler, Mangum) fed API Gateway events.

The handler module builds the app when it is first imported, so it is imported here, inside a
fixture, after the session fixtures of tests/conftest.py have set APP_ENV and DATABASE_URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.functions.lambda_events import Invocation
from tests.support.lambda_context import FakeLambdaContext


@pytest.fixture(scope="session")
def lambda_handler(test_environment: None) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from functions.api.handler import handler

    return handler  # type: ignore[return-value]


@pytest.fixture
def invoke(lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Callable[[dict[str, Any]], Invocation]:
    def call(event: dict[str, Any]) -> Invocation:
        request_id = str(uuid.uuid4())
        response = lambda_handler(event, FakeLambdaContext(request_id))
        return Invocation(request_id, event, response)

    return call


@pytest.fixture(autouse=True)
def as_on_lambda(configure: Callable[..., None]) -> None:
    """The Lambda runtime sets AWS_LAMBDA_FUNCTION_NAME: a pool of one connection, and service
    calls run inline instead of in the threadpool. The handler tests run that way."""
    configure(AWS_LAMBDA_FUNCTION_NAME="tasks-api-test")

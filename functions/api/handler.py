"""The Lambda entry: the app, built once per container, wrapped by Mangum."""

from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from functions.api import metrics
from functions.api.app import create_app
from functions.api.problems import PROBLEM_JSON

# The scheduled keep-warm invocation's exact payload (template.yaml, KeepWarm). API Gateway
# events are built by API Gateway, so no HTTP client can produce one equal to it.
KEEP_WARM_EVENT = {"tasks-api": "keep-warm"}

# lifespan="off": Mangum would run the ASGI lifespan on every invocation.
# text_mime_types replaces Mangum's list, so it keeps the defaults and adds problem+json, which
# Mangum would otherwise send base64-encoded.
http_handler = Mangum(create_app(), lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_JSON])


def handler(event: Any, context: Any) -> Any:
    if event == KEEP_WARM_EVENT:
        # Keeps the published version (and its SnapStart snapshot) active; touches no database.
        metrics.flush()
        return {"status": "warm"}
    return http_handler(event, context)

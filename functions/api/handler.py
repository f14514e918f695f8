"""The Lambda entry: the app, built once per container, wrapped by Mangum."""

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from functions.api.app import create_app
from functions.api.problems import PROBLEM_JSON

# lifespan="off": Mangum would run the ASGI lifespan on every invocation.
# text_mime_types replaces Mangum's list, so it keeps the defaults and adds problem+json, which
# Mangum would otherwise send base64-encoded.
handler = Mangum(create_app(), lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_JSON])

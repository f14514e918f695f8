"""API Gateway event fixtures and the invocation record for the real handler (the fake Lambda context
is tests/support/lambda_context.py)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


@dataclass
class Invocation:
    request_id: str
    event: dict[str, Any]
    response: dict[str, Any]

    @property
    def status(self) -> int:
        status: int = self.response["statusCode"]
        return status

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = self.response.get("headers") or {}
        return headers

    @property
    def text(self) -> str:
        """The body as the client receives it: API Gateway decodes base64 bodies."""
        body: str = self.response.get("body") or ""
        if self.response.get("isBase64Encoded"):
            return base64.b64decode(body, validate=True).decode("utf-8")
        return body

    def json(self) -> Any:
        return json.loads(self.text)


def load_event(name: str, **placeholders: str) -> dict[str, Any]:
    """tests/events/<name>.json with every {{placeholder}} filled in; none may be left over."""
    text = (EVENTS_DIR / f"{name}.json").read_text()
    for key, value in placeholders.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, f"{name}: unfilled placeholder"
    event: dict[str, Any] = json.loads(text)
    return event


V2 = "http_api_v2"
V1 = "rest_api_v1"


def without_header(event: dict[str, Any], name: str) -> dict[str, Any]:
    """Drop a request header, from multiValueHeaders too (Mangum merges those over headers)."""
    for field in ("headers", "multiValueHeaders"):
        values = event.get(field) or {}
        for key in [k for k in values if k.lower() == name.lower()]:
            del values[key]
    return event


def with_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    without_header(event, name)
    event["headers"][name] = value
    if event.get("multiValueHeaders") is not None:
        event["multiValueHeaders"][name] = [value]
    return event


def with_body(event: dict[str, Any], body: bytes, content_type: str) -> dict[str, Any]:
    """A plain-text body as each payload version carries it.

    HTTP API events carry `content-length`; REST API proxy events carry no Content-Length header.
    """
    with_header(event, "content-type", content_type)
    if "version" in event:
        with_header(event, "content-length", str(len(body)))
    else:
        without_header(event, "content-length")
    event["body"] = body.decode("utf-8")
    event["isBase64Encoded"] = False
    return event


def with_query(event: dict[str, Any], pairs: list[tuple[str, str]], raw: str) -> dict[str, Any]:
    """The query as each payload version carries it: rawQueryString plus comma-joined values (2.0),
    or single- and multi-value dicts (1.0). `raw` is the query string exactly as the client sent it."""
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    if "version" in event:
        event["rawQueryString"] = raw
        event["queryStringParameters"] = {k: ",".join(v) for k, v in multi.items()}
    else:
        event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()}
        event["multiValueQueryStringParameters"] = multi
    return event

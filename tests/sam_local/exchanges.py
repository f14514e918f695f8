"""The same request two ways: over HTTP through `sam local start-api` (API Gateway emulation, the
real runtime interface client in the Lambda container), and in-process through the handler with
the HTTP API (payload 2.0) event API Gateway would send. Then what may differ between two runs
(ids, timestamps, ETags, request ids, cursors, the host) is replaced by placeholders in order of
first appearance, so two runs of the same scenario compare equal exactly when they behave alike."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from shared.models.task_input import READ_ONLY_FIELDS
from tests.support.lambda_context import FakeLambdaContext

# The headers a client acts on; Server, Date, Connection and such are the emulator's own.
HEADERS_THAT_MATTER = (
    "content-type", "etag", "location", "link", "www-authenticate", "allow", "retry-after", "idempotent-replayed",
)  # fmt: skip
# Mangum labels every payload 2.0 response, an empty one too, and sam's emulator (Werkzeug) drops the
# label from a 304: a Content-Type on a response without content describes nothing.
BODILESS = (204, 304)
# The timestamps the server sets (the clock differs between the two runs): the read-only `*_at` fields.
TIMESTAMP_FIELDS = tuple(sorted(name for name in READ_ONLY_FIELDS if name.endswith("_at")))


@dataclass
class Exchange:
    step: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


Transport = Callable[[Request], tuple[int, dict[str, str], bytes]]


def over_http(client: httpx.Client) -> Transport:
    def send(request: Request) -> tuple[int, dict[str, str], bytes]:
        response = client.request(
            request.method, request.path, params=request.query, headers=request.headers, content=request.body
        )
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content

    return send


def in_process(handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Transport:
    def send(request: Request) -> tuple[int, dict[str, str], bytes]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers.setdefault("host", "127.0.0.1")
        if request.body is not None:
            headers["content-length"] = str(len(request.body))
        multi: dict[str, list[str]] = {}
        for key, value in request.query:
            multi.setdefault(key, []).append(value)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "ANY /{proxy+}",
            "rawPath": request.path,
            "rawQueryString": urlencode(request.query),
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers["host"],
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": uuid.uuid4().hex,
                "routeKey": "ANY /{proxy+}",
                "stage": "$default",
            },
            "isBase64Encoded": False,
        }
        if multi:
            event["queryStringParameters"] = {k: ",".join(v) for k, v in multi.items()}
        if request.body is not None:
            event["body"] = request.body.decode("utf-8")
        response = handler(event, FakeLambdaContext(str(uuid.uuid4())))
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        return response["statusCode"], {k.lower(): v for k, v in (response.get("headers") or {}).items()}, raw

    return send


class Normalizer:
    """Replaces a run's own values by placeholders numbered in order of first appearance."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users  # real user id -> role name
        self.seen: dict[tuple[str, str], str] = {}

    def _placeholder(self, kind: str, value: object) -> str:
        key = (kind, str(value))
        if key not in self.seen:
            self.seen[key] = f"<{kind}#{sum(1 for k in self.seen if k[0] == kind) + 1}>"
        return self.seen[key]

    def text(self, value: str) -> str:
        for user, role in self.users.items():
            value = value.replace(user, f"<{role}>")
        value = re.sub(r"https?://[^/>\s]+", "<base>", value)
        value = re.sub(r"cursor=[^&>;\s]+", "cursor=<cursor>", value)
        value = re.sub(r"/tasks/(\d+)", lambda m: "/tasks/" + self._placeholder("task", m.group(1)), value)
        return value

    def etag(self, value: str) -> str:
        return self._placeholder("etag", value)

    def body(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.body(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v) for v in value]
        if key == "id" and isinstance(value, int):
            return self._placeholder("task", value)
        if key in TIMESTAMP_FIELDS and isinstance(value, str):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value), value
            return "<timestamp>"
        if key == "request_id" and isinstance(value, str):
            return "<request id>"
        if key == "detail" and isinstance(value, str):  # a problem's text may name the task id
            value = re.sub(r"\btask (\d+)", lambda m: "task " + self._placeholder("task", m.group(1)), value)
        if isinstance(value, str):
            return self.text(value)
        return value

    def exchange(self, exchange: Exchange) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name in HEADERS_THAT_MATTER:
            if name == "content-type" and exchange.status in BODILESS:
                continue
            if name in exchange.headers:
                value = exchange.headers[name]
                headers[name] = self.etag(value) if name == "etag" else self.text(value)
        body: Any = exchange.body.decode("utf-8")
        if body and exchange.headers.get("content-type", "").split(";")[0].endswith("json"):
            body = self.body(json.loads(body))
        return {"step": exchange.step, "status": exchange.status, "headers": headers, "body": body}

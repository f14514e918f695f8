"""The edge, as one pure ASGI middleware, in the order the contract fixes:
request id and access log, then 413 for oversized bodies, then 401/403 for the owned routes
(those under a router prefix with a `{user_id}`), then 415 for bodies that are not JSON.
Anything unexpected becomes a bare 500 problem.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from functions.api import metrics
from functions.api.problems import PROBLEM_JSON, problem_body
from shared.auth import AuthError, AuthUnavailable, TokenVerifier
from shared.config import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES} bytes"
OWNER_PARAM = "{user_id}"
_BODY_METHODS = {"POST", "PUT", "PATCH"}
access_log = logging.getLogger("tasks_api.access")
logger = logging.getLogger("tasks_api")


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body reader passes it on instead of calling it a parse error."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _request_id(scope: Scope) -> str:
    context = scope.get("aws.context")
    aws_id = getattr(context, "aws_request_id", None)
    return str(aws_id) if aws_id else uuid.uuid4().hex


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


_verifier: TokenVerifier | None = None


def get_verifier() -> TokenVerifier:
    global _verifier
    if _verifier is None:
        _verifier = TokenVerifier(get_settings())
    return _verifier


def reset_verifier() -> None:
    global _verifier
    _verifier = None


def owned_path_head(router_prefix: str) -> str:
    """The fixed start of a router prefix, up to its `{user_id}`: `/api/{user_id}/tasks` -> `/api/`.

    Every path under that head is authorized, and its next segment must be the token's subject.
    """
    head, found, _ = router_prefix.partition(OWNER_PARAM)
    if not found or not head.endswith("/"):
        raise ValueError(f"an owned router's prefix must contain /{OWNER_PARAM}: {router_prefix!r}")
    return head


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, owned_prefixes: list[str]) -> None:
        """`owned_prefixes`: the prefixes of the routers whose paths name their owner."""
        self.app = app
        self.owned_heads = tuple(dict.fromkeys(owned_path_head(prefix) for prefix in owned_prefixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        metrics.start_request()
        status_holder = {"status": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self._guarded(scope, receive, send_logged, request_id)
        except BodyTooLarge:
            if not status_holder["status"]:
                await self._reject(send_logged, 413, TOO_LARGE, request_id)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if not status_holder["status"]:
                await self._reject(send_logged, 500, "an unexpected error occurred", request_id)
        finally:
            route = getattr(scope.get("route"), "path", None)
            fields = {
                "request_id": request_id,
                "method": scope.get("method"),
                "route": route,
                "status": status_holder["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            # The fields travel as record attributes: Lambda's JSON log format (LoggingConfig) puts
            # them beside its own requestId; the message is only for people reading plain text.
            access_log.info("%s %s %s", fields["method"], route or "-", fields["status"], extra=fields)
            metrics.record_request(scope, status_holder["status"], started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            status = 413 if length.isdigit() else 400
            await self._reject(send, status, TOO_LARGE if status == 413 else "invalid Content-Length", request_id)
            return
        path: str = scope["path"]
        head = next((h for h in self.owned_heads if path.startswith(h)), None)
        if head is not None:
            rejection = self._authorize(scope, path[len(head) :].split("/", 1)[0])
            if rejection is not None:
                status, detail, headers = rejection
                await self._reject(send, status, detail, request_id, headers)
                return
            if scope["method"] in _BODY_METHODS and not _is_json(_header(scope, b"content-type")):
                receive, has_body = await _has_body(receive, length)
                if has_body:
                    await self._reject(send, 415, "the request body must be application/json", request_id)
                    return
        await self.app(scope, _limited(receive), send)

    def _authorize(self, scope: Scope, path_user: str) -> tuple[int, str, dict[str, str]] | None:
        challenge = {"WWW-Authenticate": 'Bearer realm="tasks-api"'}
        authorization = _header(scope, b"authorization")
        if authorization is None:
            return 401, "a bearer token is required", challenge
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return 401, "the Authorization header must be 'Bearer <token>'", challenge
        try:
            principal = get_verifier().verify(token.strip())
        except AuthError as error:
            return 401, str(error), {"WWW-Authenticate": 'Bearer realm="tasks-api", error="invalid_token"'}
        except AuthUnavailable as error:
            # The keys are unreachable: the token may be fine, so this is no sign-out (401).
            return 503, str(error), {"Retry-After": str(error.retry_after)}
        if path_user != principal.subject:
            return 403, "the path's user id is not the token's subject", {}
        scope["state"]["owner_id"] = principal.subject
        return None

    async def _reject(
        self, send: Send, status: int, detail: str, request_id: str, headers: dict[str, str] | None = None
    ) -> None:
        body = problem_body(status, detail, request_id)
        raw_headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


async def _has_body(receive: Receive, length: str | None) -> tuple[Receive, bool]:
    """Whether the request carries a body. Without a Content-Length (API Gateway's REST events
    have none) that takes a look at the first body message, which is then handed on unread."""
    if length is not None:
        return receive, int(length) > 0
    first = await receive()
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return first
        return await receive()

    return replay, bool(first.get("body")) or bool(first.get("more_body"))


def _limited(receive: Receive) -> Receive:
    """Count streamed bodies too: a missing or lying Content-Length does not get past the limit."""
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLarge
        return message

    return wrapped

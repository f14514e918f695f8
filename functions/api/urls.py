"""Every URL the service emits (Location, Link, ...) is built here, and only here.

Each one is a valid URI whatever the caller's data: path segments and query values are
percent-encoded (UTF-8), so the header is plain ASCII (always Latin-1 encodable, as Starlette and
Mangum need) and decodes back to exactly the values it names. A URL also keeps the prefix the
client used and the app never saw: the stage of an API Gateway REST API (`/dev/api/...`).

    location(request, "/api/{user_id}/tasks/{task_id}", user_id=owner, task_id=7)
                                                         ->  /dev/api/jos%C3%A9/tasks/7
    this_url(request, cursor=page.next_cursor)           ->  https://host/dev/api/.../tasks?...&cursor=...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request

# An authority that can go into an absolute URL as it is: a DNS name or IPv4/IPv6 literal, a port.
_AUTHORITY = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def segment(value: str | int) -> str:
    """One path segment, percent-encoded: everything but unreserved characters is escaped, and the
    dot segments `.` and `..` (which clients would resolve away) are written as `%2E`."""
    text = str(value)
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return _encoded(text)


def _encoded(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


def query_string(pairs: Iterable[tuple[str, str]]) -> str:
    """`k=v&...`, each key and value percent-encoded (a `+` or `&` in a value stays data)."""
    return "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in pairs)


def gateway_prefix(scope: Mapping[str, Any]) -> str:
    """The encoded path prefix in front of what the app routes, e.g. `/dev` for a REST API stage.

    API Gateway REST (payload 1.0) events carry the path without the stage in `path` and the one the
    client used in `requestContext.path`; HTTP APIs on `$default` (the template's) have none.
    """
    event = scope.get("aws.event")
    if not isinstance(event, dict) or "version" in event:
        return ""
    context = event.get("requestContext")
    full = context.get("path") if isinstance(context, dict) else None
    routed = event.get("path")
    if not isinstance(full, str) or not isinstance(routed, str):
        return ""
    full, routed = unquote(full), unquote(routed)
    prefix = ""
    if len(full) > len(routed) and full.endswith(routed):
        prefix = full[: len(full) - len(routed)].rstrip("/")
    else:
        stage = context.get("stage") if isinstance(context, dict) else None
        if isinstance(stage, str) and stage and full.startswith(f"/{stage}/") and not routed.startswith(f"/{stage}/"):
            prefix = f"/{stage}"
    if not prefix.startswith("/"):
        return ""
    return "/".join(segment(part) if part else "" for part in prefix.split("/"))


def path(request: Request, *segments: str | int) -> str:
    """A path-absolute URL of the app's own: the prefix, then each segment encoded."""
    return gateway_prefix(request.scope) + "".join("/" + segment(s) for s in segments)


def location(request: Request, template: str, **params: str | int) -> str:
    """A `Location` (a path-absolute reference) from a route template whose `{name}` segments are
    filled in: `location(request, "/api/{user_id}/tasks/{task_id}", user_id=owner, task_id=7)`."""
    segments: list[str | int] = []
    for part in template.strip("/").split("/"):
        name = part[1:-1].split(":", 1)[0] if part.startswith("{") and part.endswith("}") else None
        segments.append(part if name is None else params[name])
    return path(request, *segments)


def origin(request: Request) -> str | None:
    """`scheme://host` of the request, when the Host it came with is a plain authority."""
    scheme = request.scope.get("scheme", "http")
    host = request.headers.get("host")
    if scheme not in ("http", "https") or host is None or not _AUTHORITY.fullmatch(host):
        return None
    return f"{scheme}://{host}"


def this_url(request: Request, **replace: str) -> str:
    """The request's own URL, its query parameters kept (in order) except those in `replace`, which
    are set. Absolute when the Host is a plain authority, else path-absolute."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in replace]
    pairs += list(replace.items())
    routed = "/".join(segment(part) if part else "" for part in request.scope["path"].split("/"))
    url = gateway_prefix(request.scope) + routed
    if pairs:
        url += "?" + query_string(pairs)
    base = origin(request)
    return url if base is None else base + url

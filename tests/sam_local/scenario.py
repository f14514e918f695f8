"""The task contract as one scenario of requests, run against any transport: every route, 401 with
WWW-Authenticate, 403, 404, 304, 405, 412, 413, 415, 422, 400, an idempotent replay and the list
with its Link pages. Each step states the status the contract requires; the whole list of
exchanges is what the sam local run and the in-process run are compared on."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from tests.sam_local.exchanges import Exchange, Request, Transport


class Caller:
    def __init__(self, send: Transport, user: str, other: str, secret: str) -> None:
        self.send = send
        self.user = user
        self.other = other
        self.secret = secret
        self.exchanges: list[Exchange] = []

    def token(self, sub: str, **claims: Any) -> str:
        return jwt.encode({"sub": sub, "exp": int(time.time()) + 600, **claims}, self.secret, algorithm="HS256")

    def call(
        self,
        step: str,
        method: str,
        path: str,
        *,
        expect: int,
        as_user: str | None = "",
        body: Any = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        query: list[tuple[str, str]] | None = None,
    ) -> Exchange:
        sent = dict(headers or {})
        who = self.user if as_user == "" else as_user
        if who is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token(who)}"
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if payload is not None:
            sent.setdefault("Content-Type", content_type)
        status, got_headers, got_body = self.send(Request(method, path, query or [], sent, payload))
        exchange = Exchange(step, method, path, status, got_headers, got_body)
        self.exchanges.append(exchange)
        assert status == expect, f"{step}: {method} {path} gave {status}, not {expect}: {got_body[:300]!r}"
        return exchange


def run(caller: Caller) -> list[Exchange]:
    me, base = caller.user, f"/api/{caller.user}/tasks"
    c = caller.call

    c("health", "GET", "/health", expect=200, as_user=None)
    c("ready", "GET", "/health/ready", expect=200, as_user=None)
    c("openapi", "GET", "/openapi.json", expect=200, as_user=None)
    c("no token", "GET", base, expect=401, as_user=None)
    c("not bearer", "GET", base, expect=401, headers={"Authorization": "Basic YWxpY2U6cHc="})
    c(
        "bad signature",
        "GET",
        base,
        expect=401,
        headers={"Authorization": "Bearer " + jwt.encode({"sub": me}, "x" * 40)},
    )
    c("expired", "GET", base, expect=401, headers={"Authorization": f"Bearer {caller.token(me, exp=1)}"})
    c("no token with a body", "POST", base, expect=401, as_user=None, body={"title": "t"})
    c("someone else's path", "GET", f"/api/{caller.other}/tasks", expect=403)

    created = c(
        "create",
        "POST",
        base,
        expect=201,
        body={"title": "  Buy milk  ", "description": "two litres", "priority": "high",
              "due_at": "2031-05-01T10:00:00+02:00", "tags": ["Home", "home", "errand"]},
    ).json()  # fmt: skip
    task = f"{base}/{created['id']}"
    got = c("get", "GET", task, expect=200)
    etag = got.headers["etag"]
    c("not modified", "GET", task, expect=304, headers={"If-None-Match": etag})
    c("modified since", "GET", task, expect=200, headers={"If-None-Match": '"0.0"'})
    c("stale put", "PUT", task, expect=412, body={"title": "x"}, headers={"If-Match": '"0.0"'})
    put = c(
        "put", "PUT", task, expect=200, body={"title": "Buy oat milk", "tags": ["home"]}, headers={"If-Match": etag}
    )
    c("patch", "PATCH", task, expect=200, body={"priority": "low"}, headers={"If-Match": put.headers["etag"]})
    c("stale patch", "PATCH", task, expect=412, body={"priority": "high"}, headers={"If-Match": etag})
    c("complete toggles", "PATCH", f"{task}/complete", expect=200)
    c("complete sets", "PATCH", f"{task}/complete", expect=200, body={"completed": False})
    c("complete toggles with {}", "PATCH", f"{task}/complete", expect=200, body={})

    key = {"Idempotency-Key": "sam-local-key-1"}
    first = c("keyed create", "POST", base, expect=201, body={"title": "once", "tags": ["a"]}, headers=key)
    c("keyed replay", "POST", base, expect=201, body={"tags": ["a"], "title": "once"}, headers=key)
    c("key reused with another body", "POST", base, expect=422, body={"title": "twice"}, headers=key)
    c("replay names the same task", "GET", first.headers["location"], expect=200)

    for n in range(3):
        c(f"create {n}", "POST", base, expect=201, body={"title": f"page task {n}", "priority": "medium"})
    page = c("list page 1", "GET", base, expect=200, query=[("limit", "2")])
    pages = 1
    while "link" in page.headers:
        target = urlsplit(page.headers["link"].split(">", 1)[0].lstrip("<"))
        pages += 1
        page = c(f"list page {pages}", "GET", target.path, expect=200, query=parse_qsl(target.query))
    assert pages == 3, pages
    c("list filtered", "GET", base, expect=200,
      query=[("status", "pending"), ("priority", "low"), ("priority", "medium"), ("sort", "-title")])  # fmt: skip
    c("list by tag and text", "GET", base, expect=200, query=[("tag", "HOME"), ("q", "OAT")])
    c("list due window", "GET", base, expect=200,
      query=[("due_after", "2031-01-01T00:00:00Z"), ("due_before", "2032-01-01T00:00:00Z"), ("sort", "due_at")])  # fmt: skip
    c("forged cursor", "GET", base, expect=400, query=[("cursor", "forged")])
    c("bad limit", "GET", base, expect=422, query=[("limit", "0")])
    c("stats", "GET", f"{base}/stats", expect=200)

    c("missing task", "GET", f"{base}/999999999", expect=404)
    c("someone else's task", "GET", f"/api/{caller.other}/tasks/{created['id']}", expect=404, as_user=caller.other)
    c("if-match on someone else's task", "PATCH", f"/api/{caller.other}/tasks/{created['id']}", expect=404,
      as_user=caller.other, body={"title": "mine"}, headers={"If-Match": etag})  # fmt: skip
    c("too large", "POST", base, expect=413, raw=b'{"title": "' + b"x" * (70 * 1024) + b'"}')
    c("not json", "POST", base, expect=415, raw=b"title=milk", content_type="text/plain")
    c("malformed json", "POST", base, expect=422, raw=b'{"title": ')
    c("unknown field", "POST", base, expect=422, body={"title": "t", "owner": "x"})
    c("title too long", "POST", base, expect=422, body={"title": "t" * 256})
    c("control character", "POST", base, expect=422, body={"title": "a\u0007b"})
    c("unicode title", "POST", base, expect=201, body={"title": "Café ☕ 日本語", "tags": ["ÜBER"]})
    c("method not allowed", "DELETE", base, expect=405)
    c("stale delete", "DELETE", task, expect=412, headers={"If-Match": '"0.0"'})
    c("delete", "DELETE", task, expect=204)
    c("deleted is gone", "GET", task, expect=404)
    c("delete again", "DELETE", task, expect=404)
    c("unknown route", "GET", "/nowhere", expect=404, as_user=None)
    return caller.exchanges

"""A JWKS that fails is not a sign-out: bad keys are skipped, the last good keys serve through an
outage (within a bound), no keys at all is 503 with Retry-After, and recovery is immediate. Every
failure is a real one, from a loopback HTTP server that can go down, hang, drip or overflow."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shared.auth
from shared.auth import AuthError, AuthUnavailable, JWKSCache
from tests.api.test_jwks import new_key, public_jwk, sign


class FlakyJWKS:
    """A JWKS on a fixed loopback port that can be taken down and brought back on the same port.
    `mode`: ok | error (HTTP 500) | hang (never answers) | drip (one byte at a time) | huge."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}/jwks"
        self.document: bytes = b'{"keys": []}'
        self.mode = "ok"
        self.hits = 0
        self.release = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self.up()

    def serve(self, *jwks: dict[str, Any]) -> None:
        self.document = json.dumps({"keys": list(jwks)}).encode()

    def up(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits += 1
                if server.mode == "hang":
                    server.release.wait(30)
                    return
                body = server.document
                if server.mode == "huge":
                    body = json.dumps({"keys": json.loads(server.document)["keys"], "pad": "x" * 300_000}).encode()
                self.send_response(500 if server.mode == "error" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.mode == "drip":
                    for byte in body:
                        if server.release.wait(0.05):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def down(self) -> None:
        """Connection refused from now on."""
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None

    def close(self) -> None:
        self.release.set()
        if self.httpd is not None:
            self.down()


@pytest.fixture
def jwks(monkeypatch: pytest.MonkeyPatch, configure: Any) -> Iterator[FlakyJWKS]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = FlakyJWKS()
    configure(APP_ENV="test", AUTH_JWT_SECRET=None, AUTH_JWKS_URL=server.url)
    yield server
    server.close()


def call(client: Any, user: str, token: str) -> Any:
    return client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})


def assert_ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == []


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert "www-authenticate" not in response.headers  # not an invitation to sign in again


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- one bad key does not poison the set -------------------------------------------------------

BAD_KEYS = [
    {"kty": "EC", "crv": "P-256", "kid": "ec-no-y", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
    {"kty": "RSA", "kid": "rsa-x5c-only", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
    {"kty": "RSA", "kid": "rsa-bad-n", "n": "!!!", "e": "AQAB"},
    {"kty": "OKP", "crv": "Ed25519", "kid": "okp-short-x", "x": "AAAA"},
    {"kty": "OKP", "crv": "Ed25519", "kid": "okp-x-not-a-string", "x": 12},
    {"kty": "EC", "crv": "P-256", "kid": "ec-off-curve", "x": "AAAA", "y": "AAAA"},
]


def test_bad_keys_are_skipped_and_logged_once_and_the_good_ones_serve(client, new_user, jwks, caplog, monkeypatch):
    good = {alg: new_key(alg) for alg in ("EdDSA", "ES256", "RS256")}
    jwks.serve(*BAD_KEYS[:3], *(public_jwk(key, alg, f"good-{alg}") for alg, key in good.items()), *BAD_KEYS[3:])
    user = new_user()
    caplog.set_level(logging.WARNING, logger="tasks_api")
    for alg, key in good.items():
        assert_ok(call(client, user, sign(key, alg, user, kid=f"good-{alg}")))
    for bad in BAD_KEYS:
        assert_refused(call(client, user, sign(good["EdDSA"], "EdDSA", user, kid=bad["kid"])))
    # Refetch the same document several times: each bad key is still named once in the log.
    monkeypatch.setattr(shared.auth, "JWKS_REFETCH_SECONDS", 0)
    for n in range(3):
        assert_refused(call(client, user, sign(good["EdDSA"], "EdDSA", user, kid=f"unknown-{n}")))
    assert jwks.hits >= 4
    skipped = [json.loads(r.getMessage()) for r in caplog.records if "jwks-key-skipped" in r.getMessage()]
    assert sorted(line["kid"] for line in skipped) == sorted(bad["kid"] for bad in BAD_KEYS)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
B64ISH = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=!", max_size=400) | JSON_SCALARS
MALFORMED_JWK = st.fixed_dictionaries(
    {
        "kty": st.sampled_from(["EC", "RSA", "OKP"]) | JSON_SCALARS,
        "kid": st.text(min_size=1, max_size=8).map("bad-".__add__),
    },
    optional={
        "crv": st.sampled_from(["P-256", "Ed25519", "P-384", "X25519"]) | JSON_SCALARS,
        "x": B64ISH,
        "y": B64ISH,
        "n": B64ISH,
        "e": st.sampled_from(["AQAB", "", "AA"]) | B64ISH,
        "d": B64ISH,
        "x5c": st.lists(B64ISH, max_size=2),
        "use": st.sampled_from(["sig", "enc"]) | JSON_SCALARS,
        "alg": st.sampled_from(["EdDSA", "ES256", "RS256", "HS256", "none"]) | JSON_SCALARS,
    },
)
KEY = new_key("EdDSA")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(MALFORMED_JWK | JSON_SCALARS, min_size=1, max_size=4), position=st.integers(0, 4))
def test_no_malformed_key_poisons_the_good_one(jwks, bad: list[Any], position: int) -> None:
    keys: list[Any] = list(bad)
    keys.insert(min(position, len(keys)), public_jwk(KEY, "EdDSA", "good"))
    jwks.document = json.dumps({"keys": keys}).encode()
    cache = JWKSCache(jwks.url)
    algorithm = cache.key_for("good")[1]
    assert algorithm == "EdDSA"
    for jwk in bad:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if isinstance(kid, str) and kid != "good":
            # A key that happens to be valid loads; any other is skipped, so its kid is a 401.
            outcome = _key_or_refusal(cache, kid)
            assert outcome in ("key", "refused")


def _key_or_refusal(cache: JWKSCache, kid: str) -> str:
    try:
        cache.key_for(kid)
    except AuthError:
        return "refused"
    return "key"


# --- an outage is not a sign-out ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "error", "not-json", "huge", "hang", "drip"])
def test_the_last_good_keys_serve_while_a_refresh_fails(client, new_user, jwks, monkeypatch, mode):
    monkeypatch.setattr(shared.auth, "JWKS_TIMEOUT_SECONDS", 1)
    key = new_key("EdDSA")
    jwks.serve(public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1")))
    _break(jwks, mode)
    monkeypatch.setattr(shared.auth, "JWKS_MAX_AGE_SECONDS", 0)  # every request now wants fresh keys
    hits = jwks.hits
    started = time.monotonic()
    for n in range(3):
        # A new token each time (no verified-token cache): each needs the key.
        assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1", lifetime=300 + n)))
    assert time.monotonic() - started < 15  # the fetch is bounded (1 s here), a hang never reaches the client
    if mode != "down":
        assert jwks.hits > hits  # the refresh really was tried, and failed
    # A kid the stale keys do not hold may be a rotated-in key: it cannot be judged now.
    assert_unavailable(call(client, user, sign(new_key("EdDSA"), "EdDSA", user, kid="k2")))


def _break(jwks: FlakyJWKS, mode: str) -> None:
    if mode == "down":
        jwks.down()
    elif mode == "not-json":
        jwks.document = b"<html>maintenance</html>"
    else:
        jwks.mode = mode


def test_stale_keys_serve_only_within_the_bound(client, new_user, jwks, monkeypatch):
    key = new_key("EdDSA")
    jwks.serve(public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1")))
    jwks.down()
    monkeypatch.setattr(shared.auth, "JWKS_MAX_AGE_SECONDS", 0)
    monkeypatch.setattr(shared.auth, "JWKS_STALE_SECONDS", 0)
    assert_unavailable(call(client, user, sign(key, "EdDSA", user, kid="k1", lifetime=301)))


@pytest.mark.parametrize("mode", ["down", "error", "not-json", "huge", "hang", "drip"])
def test_no_keys_ever_loaded_is_503_with_retry_after(client, new_user, jwks, monkeypatch, mode):
    monkeypatch.setattr(shared.auth, "JWKS_TIMEOUT_SECONDS", 1)
    key = new_key("EdDSA")
    jwks.serve(public_jwk(key, "EdDSA", "k1"))
    _break(jwks, mode)
    user = new_user()
    started = time.monotonic()
    assert_unavailable(call(client, user, sign(key, "EdDSA", user, kid="k1")))
    assert time.monotonic() - started < 10


def test_keys_are_used_as_soon_as_the_source_is_back(client, new_user, jwks, monkeypatch):
    key = new_key("EdDSA")
    jwks.serve(public_jwk(key, "EdDSA", "k1"))
    jwks.down()
    user = new_user()
    for _ in range(3):
        assert_unavailable(call(client, user, sign(key, "EdDSA", user, kid="k1")))
    jwks.up()
    assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1")))  # no 60 s wait
    assert jwks.hits == 1
    # And a key rotated in during an outage is picked up as soon as the source answers again.
    monkeypatch.setattr(shared.auth, "JWKS_REFETCH_SECONDS", 0)  # the minute since the last fetch has passed
    rotated = new_key("EdDSA")
    jwks.mode = "error"
    assert_unavailable(call(client, user, sign(rotated, "EdDSA", user, kid="k2")))
    jwks.serve(public_jwk(key, "EdDSA", "k1"), public_jwk(rotated, "EdDSA", "k2"))
    jwks.mode = "ok"
    assert_ok(call(client, user, sign(rotated, "EdDSA", user, kid="k2")))
    assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1", lifetime=302)))


def test_an_unknown_kid_is_still_401_while_the_source_answers(client, new_user, jwks):
    key = new_key("EdDSA")
    jwks.serve(public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert_ok(call(client, user, sign(key, "EdDSA", user, kid="k1")))
    assert_refused(call(client, user, sign(key, "EdDSA", user, kid="nope")))


def test_concurrent_requests_during_an_outage_share_one_fetch(jwks, monkeypatch):
    monkeypatch.setattr(shared.auth, "JWKS_TIMEOUT_SECONDS", 1)
    jwks.mode = "hang"
    cache = JWKSCache(jwks.url)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            cache.key_for("k1")
            outcomes.append("key")
        except AuthUnavailable:
            outcomes.append("unavailable")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == ["unavailable"] * 6
    # The requests that waited used the fetch they waited for: not six fetches of a second each.
    assert jwks.hits <= 2
    assert time.monotonic() - started < 6

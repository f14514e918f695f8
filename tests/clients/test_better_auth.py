"""Tokens from a real Better Auth (Node.js: memory adapter, email and password, JWT plugin),
accepted through AUTH_JWKS_URL with iss/aud checked, for each key type the plugin can sign with."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import shared.auth
from tests.clients.conftest import CLIENTS, free_port
from tests.support.users import UserClient

ALGORITHMS = ["EdDSA", "ES256", "RS256"]
ROTATION_SECONDS = 3


@dataclass
class BetterAuth:
    base: str
    alg: str

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/api/auth/jwks"

    def sign_up(self) -> httpx.Client:
        """A signed-in browser session: sign up with email and password, keep the cookie."""
        session = httpx.Client(base_url=self.base, headers={"Origin": self.base}, timeout=30)
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        response = session.post(
            "/api/auth/sign-up/email", json={"email": email, "password": "correct horse battery", "name": "Ada"}
        )
        assert response.status_code == 200, response.text
        return session


def token_of(session: httpx.Client) -> str:
    """What the front end's `authClient.token()` calls."""
    response = session.get("/api/auth/token")
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(segment: str) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return decoded

    header, claims, _ = token.split(".")
    return part(header), part(claims)


@pytest.fixture(scope="module")
def better_auth(node: str) -> Iterator[dict[str, BetterAuth]]:
    """One Node.js process: an instance per algorithm, plus an impostor ("other") that another
    deployment runs with the same issuer and audience as the EdDSA one but its own keys."""
    ports = {alg: free_port() for alg in ALGORITHMS}
    other_port = free_port()
    eddsa_base = f"http://127.0.0.1:{ports['EdDSA']}"
    instances = [{"port": port, "alg": alg, "rotationSeconds": ROTATION_SECONDS} for alg, port in ports.items()]
    instances.append({"port": other_port, "alg": "EdDSA", "issuer": eddsa_base, "audience": eddsa_base})
    process = subprocess.Popen(
        [node, str(CLIENTS / "better-auth-server.mjs")],
        cwd=CLIENTS,
        env={"PATH": "/usr/bin:/bin", "BETTER_AUTH_INSTANCES": json.dumps(instances), "NODE_ENV": "test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready"), f"Better Auth did not start: {line}{process.stdout.read()}"
        servers = {alg: BetterAuth(f"http://127.0.0.1:{port}", alg) for alg, port in ports.items()}
        servers["other"] = BetterAuth(f"http://127.0.0.1:{other_port}", "EdDSA")
        yield servers
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture
def trust(configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Callable[[BetterAuth], None]:
    """Configure the service as docs/deploy.md says: the front end's JWKS, issuer and audience."""
    # The contract's "at most one JWKS refetch per minute" would make the rotation test wait a
    # minute; the limit itself is tested in tests/api/test_jwks.py.
    monkeypatch.setattr(shared.auth, "JWKS_REFETCH_SECONDS", 0)

    def apply(server: BetterAuth) -> None:
        configure(
            AUTH_JWT_SECRET=None, AUTH_JWKS_URL=server.jwks_url, AUTH_ISSUER=server.base, AUTH_AUDIENCE=server.base
        )

    return apply


def call(client: Any, token: str, user_id: str) -> httpx.Response:
    api = UserClient(client, user_id)
    api.headers = {"Authorization": f"Bearer {token}"}
    response: httpx.Response = api.request("POST", json={"title": "from Better Auth"})
    return response


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_better_auth_token_is_accepted_through_the_jwks(better_auth, trust, client, alg) -> None:
    server = better_auth[alg]
    trust(server)
    token = token_of(server.sign_up())
    header, claims = header_and_claims(token)
    assert header["alg"] == alg
    assert claims["iss"] == claims["aud"] == server.base
    created = call(client, token, claims["sub"])
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == claims["sub"]
    assert call(client, token, "someone-else").status_code == 403


def test_the_set_auth_jwt_header_of_get_session_is_accepted_too(better_auth, trust, client) -> None:
    server = better_auth["EdDSA"]
    trust(server)
    session = server.sign_up()
    response = session.get("/api/auth/get-session")
    assert response.status_code == 200
    token = response.headers["set-auth-jwt"]
    assert call(client, token, header_and_claims(token)[1]["sub"]).status_code == 201


def test_a_token_from_another_better_auth_instance_is_401(better_auth, trust, client) -> None:
    trust(better_auth["EdDSA"])
    token = token_of(better_auth["other"].sign_up())
    _, claims = header_and_claims(token)
    assert claims["iss"] == better_auth["EdDSA"].base  # the same claims: only the keys differ
    refused = call(client, token, claims["sub"])
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("wrong", ["issuer", "audience"])
def test_a_better_auth_token_for_another_issuer_or_audience_is_401(better_auth, configure, client, wrong) -> None:
    server = better_auth["ES256"]
    token = token_of(server.sign_up())
    expected = {"issuer": server.base, "audience": server.base, wrong: "https://elsewhere.example"}
    configure(
        AUTH_JWT_SECRET=None,
        AUTH_JWKS_URL=server.jwks_url,
        AUTH_ISSUER=expected["issuer"],
        AUTH_AUDIENCE=expected["audience"],
    )
    refused = call(client, token, header_and_claims(token)[1]["sub"])
    assert refused.status_code == 401
    assert wrong in refused.json()["detail"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_key_rotation_keeps_working_without_a_restart(better_auth, trust, client, alg) -> None:
    server = better_auth[alg]
    trust(server)
    session = server.sign_up()
    before = token_of(session)
    kid_before = header_and_claims(before)[0]["kid"]
    sub = header_and_claims(before)[1]["sub"]
    assert call(client, before, sub).status_code == 201
    time.sleep(ROTATION_SECONDS + 0.5)  # the key expires; Better Auth signs with a new key pair
    after = token_of(session)
    kid_after = header_and_claims(after)[0]["kid"]
    assert kid_after != kid_before
    published = {key["kid"] for key in httpx.get(server.jwks_url).json()["keys"]}
    assert {kid_before, kid_after} <= published
    # Same process, same verifier: the new kid is fetched, the old token still verifies.
    assert call(client, after, sub).status_code == 201
    assert call(client, before, sub).status_code == 201

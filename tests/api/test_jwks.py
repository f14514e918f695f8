"""Asymmetric tokens verified against a JWKS served by a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

import shared.auth
from tests.support.jwks import JWKSServer
from tests.support.tokens import make_token

ALGORITHMS = {"EdDSA": OKPAlgorithm, "ES256": ECAlgorithm, "RS256": RSAAlgorithm}


def new_key(alg: str) -> Any:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: Any, alg: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ALGORITHMS[alg].to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def sign(key: Any, alg: str, sub: str, *, lifetime: int = 300, **headers: Any) -> str:
    return make_token(sub, secret=key, algorithm=alg, lifetime=lifetime, headers=headers)


@pytest.fixture
def use_jwks(jwks_server: JWKSServer, configure: Any) -> JWKSServer:
    """The app configured for JWKS only (no shared secret), the document at /jwks."""
    configure(APP_ENV="test", AUTH_JWT_SECRET=None, AUTH_JWKS_URL=jwks_server.url("/jwks"))
    return jwks_server


def status_as(client: Any, user: str, token: str) -> int:
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert token not in response.text
    else:
        assert response.json() == []
    return response.status_code


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_a_token_signed_by_a_jwks_key_is_accepted(client, new_user, use_jwks, alg):
    key = new_key(alg)
    use_jwks.serve("/jwks", public_jwk(key, alg, "k1"))
    user = new_user()
    assert status_as(client, user, sign(key, alg, user, kid="k1")) == 200


def test_keys_are_cached_between_requests(client, new_user, use_jwks):
    key = new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    for _ in range(3):
        assert status_as(client, user, sign(key, "EdDSA", user, kid="k1")) == 200
    assert use_jwks.hits == {"/jwks": 1}


def test_the_right_key_is_picked_by_kid_among_several(client, new_user, use_jwks):
    keys = {alg: new_key(alg) for alg in ALGORITHMS}
    use_jwks.serve("/jwks", *(public_jwk(key, alg, alg.lower()) for alg, key in keys.items()))
    user = new_user()
    for alg, key in keys.items():
        assert status_as(client, user, sign(key, alg, user, kid=alg.lower())) == 200


def test_the_development_secret_is_not_accepted_when_a_jwks_is_configured(client, new_user, use_jwks):
    use_jwks.serve("/jwks", public_jwk(new_key("EdDSA"), "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, make_token(user)) == 401


def test_a_token_with_an_unknown_kid_is_401(client, new_user, use_jwks):
    key = new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(key, "EdDSA", user, kid="k-unknown")) == 401


def test_a_token_without_kid_is_401(client, new_user, use_jwks):
    key = new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(key, "EdDSA", user)) == 401


def test_a_token_signed_by_another_key_under_a_known_kid_is_401(client, new_user, use_jwks):
    use_jwks.serve("/jwks", public_jwk(new_key("EdDSA"), "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(new_key("EdDSA"), "EdDSA", user, kid="k1")) == 401


def test_an_expired_jwks_token_is_401(client, new_user, use_jwks):
    key = new_key("ES256")
    use_jwks.serve("/jwks", public_jwk(key, "ES256", "k1"))
    user = new_user()
    assert status_as(client, user, sign(key, "ES256", user, kid="k1", lifetime=-300)) == 401


def test_a_token_whose_alg_does_not_match_its_key_is_401(client, new_user, use_jwks):
    rsa_key = new_key("RS256")
    use_jwks.serve("/jwks", public_jwk(rsa_key, "RS256", "k1"))
    user = new_user()
    assert status_as(client, user, sign(rsa_key, "PS256", user, kid="k1")) == 401


def test_an_hs256_token_signed_with_the_public_key_is_401(client, new_user, use_jwks):
    key = new_key("EdDSA")
    jwk = public_jwk(key, "EdDSA", "k1")
    use_jwks.serve("/jwks", jwk)
    user = new_user()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (pem, json.dumps(jwk).encode(), base64.urlsafe_b64decode(jwk["x"] + "==")):

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': 'k1'}).encode())}." + b64(
            json.dumps({"sub": user, "exp": int(time.time()) + 300}).encode()
        )
        token = f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
        assert status_as(client, user, token) == 401


def test_key_rotation_is_picked_up_through_a_refetch_on_an_unknown_kid(client, new_user, use_jwks, monkeypatch):
    monkeypatch.setattr(shared.auth, "JWKS_REFETCH_SECONDS", 0)
    old, new = new_key("EdDSA"), new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(old, "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(old, "EdDSA", user, kid="k1")) == 200
    use_jwks.serve("/jwks", public_jwk(new, "EdDSA", "k2"))
    assert status_as(client, user, sign(new, "EdDSA", user, kid="k2")) == 200
    assert status_as(client, user, sign(new, "EdDSA", user, kid="k2")) == 200
    assert use_jwks.hits == {"/jwks": 2}


def test_unknown_kids_refetch_at_most_once_per_interval(client, new_user, use_jwks):
    key = new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(key, "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(key, "EdDSA", user, kid="k1")) == 200
    for n in range(5):
        assert status_as(client, user, sign(key, "EdDSA", user, kid=f"unknown-{n}")) == 401
    assert use_jwks.hits == {"/jwks": 1}


def test_a_rotated_key_within_the_refetch_interval_waits_for_the_interval(client, new_user, use_jwks, monkeypatch):
    old, new = new_key("EdDSA"), new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(old, "EdDSA", "k1"))
    user = new_user()
    assert status_as(client, user, sign(old, "EdDSA", user, kid="k1")) == 200
    use_jwks.serve("/jwks", public_jwk(new, "EdDSA", "k2"))
    assert status_as(client, user, sign(new, "EdDSA", user, kid="k2")) == 401
    assert use_jwks.hits == {"/jwks": 1}
    monkeypatch.setattr(shared.auth, "JWKS_REFETCH_SECONDS", 0)  # the interval has passed
    assert status_as(client, user, sign(new, "EdDSA", user, kid="k2")) == 200
    assert use_jwks.hits == {"/jwks": 2}


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_a_key_url_in_the_token_header_is_never_fetched(client, new_user, use_jwks, header):
    real, attacker = new_key("EdDSA"), new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(real, "EdDSA", "k1"))
    use_jwks.serve("/evil", public_jwk(attacker, "EdDSA", "k1"), public_jwk(attacker, "EdDSA", "evil"))
    user = new_user()
    for kid in ("k1", "evil"):
        assert status_as(client, user, sign(attacker, "EdDSA", user, kid=kid, **{header: use_jwks.url("/evil")})) == 401
    assert status_as(client, user, sign(real, "EdDSA", user, kid="k1", **{header: use_jwks.url("/evil")})) == 200
    assert use_jwks.hits["/evil"] == 0


def test_a_key_embedded_in_the_token_header_is_ignored(client, new_user, use_jwks):
    real, attacker = new_key("EdDSA"), new_key("EdDSA")
    use_jwks.serve("/jwks", public_jwk(real, "EdDSA", "k1"))
    user = new_user()
    for kid in ("k1", "evil"):
        token = sign(attacker, "EdDSA", user, kid=kid, jwk=public_jwk(attacker, "EdDSA", kid))
        assert status_as(client, user, token) == 401


def _unavailable(client: Any, user: str, token: str) -> None:
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1


def test_an_unreachable_jwks_is_503_not_401(client, new_user, jwks_server, configure):
    jwks_server.httpd.shutdown()
    jwks_server.httpd.server_close()
    configure(APP_ENV="test", AUTH_JWT_SECRET=None, AUTH_JWKS_URL=jwks_server.url("/jwks"))
    user = new_user()
    _unavailable(client, user, sign(new_key("EdDSA"), "EdDSA", user, kid="k1"))


@pytest.mark.parametrize(
    "document",
    [b"not json", b"[]", b"", b'{"keys": [1]}', b'{"keys": "x"}', b'{"keys": [{"kty": "OKP", "kid": "k1"}]}'],
)
def test_a_broken_jwks_document_is_503_not_500(client, new_user, use_jwks, document):
    # No usable key was ever loaded: the service cannot check any token (not a sign-out).
    use_jwks.documents["/jwks"] = document
    user = new_user()
    _unavailable(client, user, sign(new_key("EdDSA"), "EdDSA", user, kid="k1"))

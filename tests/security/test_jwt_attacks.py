"""OWASP API2 (broken authentication) and RFC 8725 (JWT best current practices), as attacks.

Every rejected token gets 401 with `WWW-Authenticate: Bearer`, a problem+json body that never
echoes the token, and no side effect; nothing ever becomes a 5xx.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.config import DEVELOPMENT_JWT_SECRET
from tests.support.problems import assert_problem
from tests.support.tokens import b64url, make_token, raw_token


def _reject(
    client: Any, user: str, token: str, *, method: str = "GET", path: str = "", **kwargs: Any
) -> dict[str, Any]:
    response = client.request(
        method, f"/api/{user}/tasks{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
    )
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert token not in response.text
    for part in token.split("."):
        if len(part) > 8:
            assert part not in response.text
    return body


def _claims(sub: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())  # not NOW: this module may run more than 300 s after it was imported
    return {"sub": sub, "exp": now + 300, "iat": now, **extra}


# --- tokens signed with the configured secret but otherwise hostile -------------------------


def _hs(payload: dict[str, Any]) -> str:
    """Signed with the configured secret; jws, so PyJWT does not vet the claims while encoding."""
    return jwt.api_jws.encode(json.dumps(payload).encode(), DEVELOPMENT_JWT_SECRET, algorithm="HS256")


def test_tampered_payload_is_rejected(client, new_user) -> None:
    victim, attacker = new_user(), new_user()
    header, _, signature = make_token(attacker).split(".")
    forged_payload = b64url(json.dumps(_claims(victim)).encode())
    _reject(client, victim, f"{header}.{forged_payload}.{signature}")


def test_tampered_header_is_rejected(client, new_user) -> None:
    user = new_user()
    _, payload, signature = make_token(user).split(".")
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "x"}).encode())
    _reject(client, user, f"{header}.{payload}.{signature}")


def test_signature_stripped_or_truncated_is_rejected(client, new_user) -> None:
    user = new_user()
    token = make_token(user)
    head, payload, signature = token.split(".")
    for forged in (
        f"{head}.{payload}.",
        f"{head}.{payload}",
        f"{head}.{payload}.{signature[:-2]}",
        token + "x",
        f"{head}.{payload}.{signature}.extra",
    ):
        _reject(client, user, forged)


def test_wrong_secret_is_rejected(client, new_user) -> None:
    user = new_user()
    _reject(client, user, make_token(user, secret="x" * 64))
    _reject(client, user, make_token(user, secret=DEVELOPMENT_JWT_SECRET + " "))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_with_the_right_secret_are_rejected(client, new_user, algorithm) -> None:
    """The algorithm list comes from the configuration (HS256), never from the token."""
    user = new_user()
    _reject(client, user, jwt.encode(_claims(user), DEVELOPMENT_JWT_SECRET, algorithm=algorithm))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None])
def test_alg_none_is_never_accepted(client, new_user, alg) -> None:
    user = new_user()
    header: dict[str, Any] = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
    for signature in (b"", b"anything"):
        _reject(client, user, raw_token(header, _claims(user), signature))


def test_expired_beyond_leeway_is_rejected(client, new_user) -> None:
    user = new_user()
    body = _reject(client, user, make_token(user, lifetime=-120))
    assert "expired" in body["detail"]


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_not_yet_valid_is_rejected(client, new_user, claim) -> None:
    user = new_user()
    _reject(client, user, make_token(user, **{claim: int(time.time()) + 3600}))


def test_missing_exp_is_rejected(client, new_user) -> None:
    user = new_user()
    _reject(client, user, jwt.encode({"sub": user}, DEVELOPMENT_JWT_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("sub", [None, "", 42, ["a"], {"id": "a"}, "a/b", "a\x00b", "a\nb", "x" * 256])
def test_unusable_subjects_are_rejected(client, sub) -> None:
    payload: dict[str, Any] = {"exp": int(time.time()) + 300}
    if sub is not None:
        payload["sub"] = sub
    _reject(client, "someone", _hs(payload))


@pytest.mark.parametrize(
    ("configured", "claims"),
    [
        ({"AUTH_ISSUER": "https://auth.example"}, {"iss": "https://evil.example"}),
        ({"AUTH_ISSUER": "https://auth.example"}, {}),
        ({"AUTH_ISSUER": "https://auth.example"}, {"iss": ["https://auth.example"]}),
        ({"AUTH_AUDIENCE": "tasks-api"}, {"aud": "other-api"}),
        ({"AUTH_AUDIENCE": "tasks-api"}, {}),
        ({"AUTH_AUDIENCE": "tasks-api"}, {"aud": ["other-api", "more"]}),
    ],
)
def test_wrong_or_missing_issuer_and_audience_are_rejected(client, configure, new_user, configured, claims) -> None:
    configure(**configured)
    user = new_user()
    _reject(client, user, _hs(_claims(user, **claims)))


def test_right_issuer_and_audience_are_accepted(client, configure, new_user) -> None:
    configure(AUTH_ISSUER="https://auth.example", AUTH_AUDIENCE="tasks-api")
    user = new_user()
    token = make_token(user, iss="https://auth.example", aud=["tasks-api", "other"])
    assert client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token {t}",
        "Bearer{t}",
        "{t}",
        "Bearer {t}garbage",
        "Bearer a.b.c",
        "Bearer ...",
        "Bearer " + "A" * 20000,
    ],
)
def test_malformed_authorization_headers_are_401(client, new_user, authorization) -> None:
    user = new_user()
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": authorization.format(t=make_token(user))})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", ["access_token", "token", "jwt", "authorization", "bearer"])
def test_token_in_query_string_or_cookie_is_ignored(client, new_user, name) -> None:
    user = new_user()
    token = make_token(user)
    assert_problem(client.get(f"/api/{user}/tasks", params={name: token}), 401)
    assert_problem(client.get(f"/api/{user}/tasks", headers={"Cookie": f"{name}={token}"}), 401)


def test_invalid_token_wins_over_body_validation_and_content_type(client, new_user) -> None:
    user = new_user()
    bad = {"Authorization": "Bearer not-a-token"}
    for kwargs in (
        {"content": b"{not json", "headers": {**bad, "Content-Type": "application/json"}},
        {"content": b"<xml/>", "headers": {**bad, "Content-Type": "application/xml"}},
        {"json": {"title": "x", "user_id": "admin"}, "headers": bad},
    ):
        assert_problem(client.post(f"/api/{user}/tasks", **kwargs), 401)
    # ...and a rejected write leaves nothing behind.
    assert client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {make_token(user)}"}).json() == []


# --- a JWKS configuration: key confusion, kid abuse, key-location headers ----------------------


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_setup(configure, jwks_servers, rsa_key):
    """Configure the app for a JWKS on a loopback server holding one RSA and one Ed25519 key."""
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ed_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed_key.public_key()))
    server = jwks_servers({"keys": [{**rsa_jwk, "kid": "rsa-1", "use": "sig"}, {**ed_jwk, "kid": "ed-1"}]})
    configure(AUTH_JWKS_URL=server.url("/jwks"), AUTH_JWT_SECRET=None)
    return server, {"rsa-1": (rsa_key, "RS256"), "ed-1": (ed_key, "EdDSA")}


def _rs256_by_hand(key: rsa.RSAPrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Genuinely signed, with a header PyJWT would refuse to produce (e.g. a non-string kid)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


def _signed(key: Any, algorithm: str, claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def test_jwks_tokens_are_accepted_when_genuine(client, new_user, jwks_setup) -> None:
    _, keys = jwks_setup
    user = new_user()
    for kid, (key, algorithm) in keys.items():
        token = _signed(key, algorithm, _claims(user), kid=kid)
        assert client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_hs256_signed_with_the_public_key_is_rejected(client, new_user, jwks_setup, rsa_key) -> None:
    """Algorithm confusion: the RSA public key (PEM, DER, JWK text) used as an HMAC secret."""
    user = new_user()
    public = rsa_key.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk_text = jwt.algorithms.RSAAlgorithm.to_jwk(public).encode()
    import hashlib
    import hmac

    for secret in (pem, der, jwk_text):
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
        body = b64url(json.dumps(_claims(user)).encode())
        signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        _reject(client, user, f"{head}.{body}.{b64url(signature)}")


def test_algorithm_swapped_between_jwks_keys_is_rejected(client, new_user, jwks_setup) -> None:
    """A token claiming the Ed25519 key's kid but signed RS256 (or the reverse)."""
    _, keys = jwks_setup
    user = new_user()
    rsa_key_, _ = keys["rsa-1"]
    ed_key, _ = keys["ed-1"]
    _reject(client, user, _signed(rsa_key_, "RS256", _claims(user), kid="ed-1"))
    _reject(client, user, _signed(ed_key, "EdDSA", _claims(user), kid="rsa-1"))
    _reject(client, user, _signed(rsa_key_, "PS256", _claims(user), kid="rsa-1"))
    _reject(client, user, raw_token({"alg": "none", "kid": "rsa-1"}, _claims(user)))


@pytest.mark.parametrize(
    "kid",
    [
        "unknown-kid",
        "../../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/dev/random",
        "file:///etc/passwd",
        "http://127.0.0.1:1/evil",
        "' OR '1'='1",
        "rsa-1' UNION SELECT 1 --",
        "rsa-1\x00",
        "rsa-1\r\nX-Injected: 1",
        "k" * 300,
        "k" * 100_00,
        "",
        42,
        None,
        ["rsa-1"],
        {"$ne": None},
    ],
)
def test_hostile_kid_is_401_and_refetches_at_most_once(client, new_user, jwks_setup, rsa_key, kid) -> None:
    server, _ = jwks_setup
    user = new_user()
    header: dict[str, Any] = (
        {"alg": "RS256", "typ": "JWT"} if kid is None else {"alg": "RS256", "typ": "JWT", "kid": kid}
    )
    token = _rs256_by_hand(rsa_key, header, _claims(user))
    for _ in range(3):
        _reject(client, user, token)
    assert len(server.paths) <= 1, server.paths
    assert all(hit == "/jwks" for hit in server.paths)


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_key_location_headers_are_never_fetched(client, new_user, jwks_setup, jwks_servers, header) -> None:
    """An attacker's key set on a server they control: the app must not even ask for it."""
    jwks_server, _ = jwks_setup
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker_key.public_key()))
    evil = jwks_servers({"keys": [{**attacker_jwk, "kid": "rsa-1"}]})
    user = new_user()
    for kid in ("rsa-1", "attacker"):
        token = jwt.encode(
            _claims(user), attacker_key, algorithm="RS256", headers={"kid": kid, header: evil.url("/keys")}
        )
        _reject(client, user, token)
    assert evil.paths == []
    assert all(hit == "/jwks" for hit in jwks_server.paths)


def test_embedded_jwk_header_is_never_trusted(client, new_user, jwks_setup, jwks_servers) -> None:
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker_key.public_key()))
    evil = jwks_servers({})
    user = new_user()
    for kid in ("rsa-1", "attacker"):
        token = jwt.encode(
            _claims(user),
            attacker_key,
            algorithm="RS256",
            headers={"kid": kid, "jwk": {**attacker_jwk, "kid": kid}, "x5c": ["MIIB"], "x5u": evil.url("/x5u")},
        )
        _reject(client, user, token)
    assert evil.paths == []


def test_key_location_headers_are_ignored_under_a_shared_secret(client, new_user, jwks_servers) -> None:
    evil = jwks_servers({"keys": []})
    user = new_user()
    token = jwt.encode(
        _claims(user),
        "attacker-secret-" * 4,
        algorithm="HS256",
        headers={"jku": evil.url("/k"), "x5u": evil.url("/x")},
    )
    _reject(client, user, token)
    # A genuine token that also carries the headers is judged by its signature alone: still no fetch.
    genuine = jwt.encode(_claims(user), DEVELOPMENT_JWT_SECRET, algorithm="HS256", headers={"jku": evil.url("/k")})
    assert client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    assert evil.paths == []


def test_ec_key_not_in_the_jwks_is_rejected(client, new_user, jwks_setup) -> None:
    user = new_user()
    stranger = ec.generate_private_key(ec.SECP256R1())
    _reject(client, user, jwt.encode(_claims(user), stranger, algorithm="ES256", headers={"kid": "rsa-1"}))
    _reject(client, user, jwt.encode(_claims(user), stranger, algorithm="ES256", headers={"kid": "ec-unknown"}))


def test_unreachable_jwks_is_503_not_401_nor_500(client, configure, new_user, rsa_key) -> None:
    # No keys were ever loaded: the token cannot be checked, which is no sign-out (see
    # tests/api/test_jwks_outage.py for the whole class).
    configure(AUTH_JWKS_URL="http://127.0.0.1:1/jwks", AUTH_JWT_SECRET=None)
    user = new_user()
    token = jwt.encode(_claims(user), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1


def test_hostile_jwks_document_is_503_not_500(client, configure, jwks_servers, new_user, rsa_key) -> None:
    for document in (
        {"keys": "not-a-list"},
        {"keys": [{"kty": "RSA", "kid": "rsa-1", "n": "!!", "e": "AQAB"}]},
        {"keys": [None, 1, "x"]},
        {"nokeys": True},
    ):
        server = jwks_servers(document)
        configure(AUTH_JWKS_URL=server.url("/jwks"), AUTH_JWT_SECRET=None)
        user = new_user()
        response = client.get(
            f"/api/{user}/tasks",
            headers={
                "Authorization": f"Bearer {jwt.encode(_claims(user), rsa_key, algorithm='RS256', headers={'kid': 'rsa-1'})}"
            },
        )
        assert_problem(response, 503)  # no usable key was ever loaded

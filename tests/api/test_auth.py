"""HS256 bearer tokens through the real app: which ones get in, and that every refusal is a clean 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from shared.config import DEVELOPMENT_JWT_SECRET
from tests.support.tokens import make_token

ISSUER = "https://auth.example.com"
AUDIENCE = "tasks-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(
    header: dict[str, Any], payload: dict[str, Any], secret: bytes | None = DEVELOPMENT_JWT_SECRET.encode()
) -> str:
    """A token built by hand, so that nothing in a JWT library refuses to make it."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def list_as(client: Any, user_id: str, token: str, *, scheme: str = "Bearer") -> Any:
    return client.get(f"/api/{user_id}/tasks", headers={"Authorization": f"{scheme} {token}"})


def assert_accepted(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == []


def assert_refused(response: Any, token: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "request_id"}
    assert (body["status"], body["title"]) == (401, "Unauthorized")
    if token:
        assert token not in response.text
        assert token.split(".")[0] not in response.text


def test_a_valid_token_is_accepted(client, new_user):
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user)))


def test_the_scheme_name_is_case_insensitive(client, new_user):
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user), scheme="bearer"))


def test_an_expired_token_is_401(client, new_user):
    user = new_user()
    token = make_token(user, lifetime=-300)
    assert_refused(list_as(client, user, token), token)


def test_a_token_expired_within_the_leeway_is_accepted(client, new_user):
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, lifetime=-5)))


def test_a_token_not_yet_valid_beyond_the_leeway_is_401(client, new_user):
    user = new_user()
    token = make_token(user, lifetime=3600, nbf=int(time.time()) + 300)
    assert_refused(list_as(client, user, token), token)


def test_a_token_not_yet_valid_within_the_leeway_is_accepted(client, new_user):
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, nbf=int(time.time()) + 5)))


def test_a_zero_leeway_refuses_a_token_expired_moments_ago(client, new_user, configure):
    configure(AUTH_LEEWAY_SECONDS="0")
    user = new_user()
    assert_refused(list_as(client, user, make_token(user, lifetime=-5)))


def test_a_larger_leeway_accepts_an_older_token(client, new_user, configure):
    configure(AUTH_LEEWAY_SECONDS="600")
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, lifetime=-300)))


def test_a_token_with_the_wrong_signature_is_401(client, new_user):
    user = new_user()
    token = make_token(user, secret="another-secret-that-is-at-least-32-bytes")
    assert_refused(list_as(client, user, token), token)


def test_a_token_with_a_tampered_payload_is_401(client, new_user):
    user, other = new_user(), new_user()
    header, _, signature = make_token(user).split(".")
    forged = f"{header}.{b64(json.dumps({'sub': other, 'exp': int(time.time()) + 300}).encode())}.{signature}"
    assert_refused(list_as(client, other, forged), forged)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_token_is_401(client, new_user, alg):
    user = new_user()
    token = raw_token({"alg": alg, "typ": "JWT"}, {"sub": user, "exp": int(time.time()) + 300}, secret=None)
    assert_refused(list_as(client, user, token), token)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_a_token_with_another_hmac_algorithm_is_401(client, new_user, alg):
    user = new_user()
    token = make_token(user, algorithm=alg)
    assert_refused(list_as(client, user, token), token)


def test_a_token_without_sub_is_401(client, new_user):
    token = make_token(None)
    assert_refused(list_as(client, new_user(), token), token)


def test_a_token_without_exp_is_401(client, new_user):
    user = new_user()
    token = raw_token({"alg": "HS256", "typ": "JWT"}, {"sub": user})
    assert_refused(list_as(client, user, token), token)


@pytest.mark.parametrize(
    ("sub", "path_user"),
    [
        pytest.param("alice/evil", "alice", id="slash"),
        pytest.param("", "x", id="empty"),
        pytest.param("u" * 256, "u" * 256, id="256-chars"),
        pytest.param("bad\u0000user", "bad", id="nul"),
        pytest.param("bad\nuser", "bad", id="newline"),
    ],
)
def test_a_token_whose_sub_is_not_a_valid_user_id_is_401(client, sub, path_user):
    token = raw_token({"alg": "HS256", "typ": "JWT"}, {"sub": sub, "exp": int(time.time()) + 300})
    assert_refused(list_as(client, path_user, token))


@pytest.mark.parametrize("sub", [12345, None, ["a"], {"a": 1}])
def test_a_token_whose_sub_is_not_a_string_is_401(client, sub):
    token = raw_token({"alg": "HS256", "typ": "JWT"}, {"sub": sub, "exp": int(time.time()) + 300})
    assert_refused(list_as(client, "12345", token))


def test_a_sub_of_255_characters_is_accepted(client):
    user = "u" * 255
    assert_accepted(list_as(client, user, make_token(user)))


@pytest.mark.parametrize(
    "token",
    ["abc", "a.b", "a.b.c", "a.b.c.d", "...", "eyJhbGciOiJIUzI1NiJ9..", "e30.e30.", "Bearer x", "\u00e9.\u00e9.\u00e9"],
)
def test_a_malformed_token_is_401(client, new_user, token):
    response = client.get(f"/api/{new_user()}/tasks", headers={"Authorization": f"Bearer {token}".encode()})
    assert_refused(response)


@pytest.mark.parametrize("name", ["access_token", "token", "jwt", "authorization"])
def test_a_token_in_the_query_string_is_ignored(client, new_user, name):
    user = new_user()
    response = client.get(f"/api/{user}/tasks", params={name: make_token(user)})
    assert_refused(response)


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:", "Digest"])
def test_a_valid_token_under_another_scheme_is_401(client, new_user, scheme):
    user = new_user()
    assert_refused(list_as(client, user, make_token(user), scheme=scheme))


def test_a_bare_token_without_scheme_is_401(client, new_user):
    user = new_user()
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": make_token(user)})
    assert_refused(response)


def test_a_token_in_a_cookie_is_ignored(client, new_user):
    user = new_user()
    client.cookies.set("token", make_token(user))
    try:
        assert_refused(client.get(f"/api/{user}/tasks"))
    finally:
        client.cookies.clear()


def test_with_an_issuer_configured_the_matching_issuer_is_accepted(client, new_user, configure):
    configure(AUTH_ISSUER=ISSUER)
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, iss=ISSUER)))


@pytest.mark.parametrize(
    "claims", [{"iss": "https://evil.example.com"}, {"iss": ISSUER + "/"}, {}], ids=["wrong", "near", "missing"]
)
def test_with_an_issuer_configured_a_wrong_or_missing_issuer_is_401(client, new_user, configure, claims):
    configure(AUTH_ISSUER=ISSUER)
    user = new_user()
    token = make_token(user, **claims)
    assert_refused(list_as(client, user, token), token)


@pytest.mark.parametrize("aud", [AUDIENCE, [AUDIENCE, "other"]])
def test_with_an_audience_configured_the_matching_audience_is_accepted(client, new_user, configure, aud):
    configure(AUTH_AUDIENCE=AUDIENCE)
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, aud=aud)))


@pytest.mark.parametrize(
    "claims", [{"aud": "other-api"}, {"aud": ["other-api"]}, {}], ids=["wrong", "wrong-list", "missing"]
)
def test_with_an_audience_configured_a_wrong_or_missing_audience_is_401(client, new_user, configure, claims):
    configure(AUTH_AUDIENCE=AUDIENCE)
    user = new_user()
    token = make_token(user, **claims)
    assert_refused(list_as(client, user, token), token)


def test_with_nothing_configured_any_issuer_and_audience_are_accepted(client, new_user):
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, iss="https://whoever.example", aud=["x", "y"])))


def test_an_empty_issuer_setting_means_unset(client, new_user, configure):
    configure(AUTH_ISSUER="", AUTH_AUDIENCE="")
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, iss="anything", aud="anything")))


def test_a_configured_secret_replaces_the_development_secret(client, new_user, configure):
    secret = "a-configured-secret-of-at-least-32-bytes"
    configure(AUTH_JWT_SECRET=secret)
    user = new_user()
    assert_accepted(list_as(client, user, make_token(user, secret=secret)))
    assert_refused(list_as(client, user, make_token(user)))

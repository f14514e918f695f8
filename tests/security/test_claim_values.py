"""No claim value raises: a correctly signed token whose registered claims (exp, nbf, iat, iss, aud,
sub, jti) have any wrong type or range is a 401, never a 500. The payload's JSON text is generated
and signed as it is, so values no encoder would write (1e400, NaN, 5,000-digit integers) reach
the service too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.auth import AuthError, TokenVerifier
from shared.config import DEVELOPMENT_JWT_SECRET, Settings

ISSUER, AUDIENCE = "https://issuer.example", "tasks-api"
NUMERIC_DATES = ("exp", "nbf", "iat")
STRINGS = ("iss", "sub", "jti")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER = b64(b'{"alg":"HS256","typ":"JWT"}')


def sign_raw(payload_text: str, secret: str = DEVELOPMENT_JWT_SECRET) -> str:
    """An HS256 token over exactly this payload text."""
    signing_input = HEADER + "." + b64(payload_text.encode("utf-8", "surrogatepass"))
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def payload_text(claims: dict[str, str]) -> str:
    """claims maps a name to the JSON text of its value."""
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in claims.items()) + "}"


def good_claims(user: str) -> dict[str, str]:
    now = int(time.time())
    return {
        "sub": json.dumps(user),
        "exp": str(now + 300),
        "nbf": str(now - 10),
        "iat": str(now - 10),
        "iss": json.dumps(ISSUER),
        "aud": json.dumps([AUDIENCE]),
        "jti": json.dumps("id-1"),
    }


def _text(value: Any) -> str:
    return json.dumps(value)


JSON_TEXT = st.recursive(
    st.none().map(_text) | st.booleans().map(_text) | st.text(max_size=10).map(_text),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]")
        | st.dictionaries(st.text(max_size=4).map(_text), inner, max_size=3).map(
            lambda d: "{" + ",".join(f"{k}:{v}" for k, v in d.items()) + "}"
        )
    ),
    max_leaves=6,
)
HUGE_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "1e309", "9" * 400, "-" + "9" * 400, "9" * 5000, "1" + "0" * 4300, "1e19", "253402300800"]
) | st.integers(min_value=253_402_300_800, max_value=10**300).map(str)
NON_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity"])
NEGATIVE = st.integers(max_value=-1).map(str) | st.floats(max_value=-1e-9, allow_infinity=False).map(repr)
# Relative to the clock when drawn (a suite runs for minutes): past/future beyond the leeway.
PAST = st.integers(min_value=120, max_value=10**11).map(lambda ago: str(max(0, int(time.time()) - ago)))
FUTURE = st.integers(min_value=120, max_value=10**11).map(
    lambda ahead: str(min(253_402_300_799, int(time.time()) + ahead))
)
BAD_NUMERIC_DATE = HUGE_NUMBERS | NON_FINITE | NEGATIVE | JSON_TEXT | st.sampled_from(['"123"', "true", "false"])
NOT_A_STRING = (
    st.integers().map(str) | st.floats(allow_nan=False).map(repr) | st.sampled_from(["null", "true", "[]", "{}", "NaN"])
)
BAD_AUDIENCE = NOT_A_STRING.filter(lambda t: t != "[]") | st.lists(NOT_A_STRING, min_size=1, max_size=3).map(
    lambda xs: "[" + ",".join(xs) + "]"
)
BAD_SUBJECT = st.sampled_from(['""', '"a/b"', '"a\\u0000b"', '"tab\\t"', json.dumps("x" * 256)])


@st.composite
def one_bad_claim(draw: st.DrawFn) -> tuple[str, str | None]:
    """A registered claim and a value it must be refused for (None: the claim is left out)."""
    name = draw(st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]))
    if name == "exp":
        value = draw(BAD_NUMERIC_DATE | PAST | st.none())
    elif name in ("nbf", "iat"):
        value = draw(BAD_NUMERIC_DATE | FUTURE)
    elif name == "aud":
        value = draw(BAD_AUDIENCE | st.sampled_from(['"someone-else"', '["someone-else"]', "[]"]) | st.none())
    elif name == "iss":
        value = draw(NOT_A_STRING | st.sampled_from(['"https://other.example"', '""']) | st.none())
    elif name == "sub":
        value = draw(NOT_A_STRING | BAD_SUBJECT | st.none())
    else:
        value = draw(NOT_A_STRING)
    return name, value


def _with(user: str, name: str, value: str | None) -> str:
    claims = good_claims(user)
    if value is None:
        del claims[name]
    else:
        claims[name] = value
    return sign_raw(payload_text(claims))


@pytest.fixture
def checked(configure: Any) -> None:
    configure(AUTH_ISSUER=ISSUER, AUTH_AUDIENCE=AUDIENCE)


def test_the_good_claims_are_accepted(client, new_user, checked) -> None:
    user = new_user()
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {_with(user, 'jti', None)}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", NUMERIC_DATES)
@pytest.mark.parametrize("value", ["1e400", "10" + "0" * 399, "9" * 5000, "NaN", "-Infinity", '"1e3"', "[1]", "{}"])
def test_the_issues_examples_are_401(client, new_user, checked, name: str, value: str) -> None:
    user = new_user()
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {_with(user, name, value)}"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=one_bad_claim())
def test_every_wrong_registered_claim_is_401_through_the_api(client, new_user, checked, bad) -> None:
    user = new_user()
    token = _with(user, *bad)
    response = client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, (bad, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


VERIFIER = TokenVerifier(
    Settings(app_env="test", auth_jwt_secret=DEVELOPMENT_JWT_SECRET, auth_issuer=ISSUER, auth_audience=AUDIENCE)
)


@settings(max_examples=1500, deadline=None)
@given(bad=one_bad_claim())
def test_every_wrong_registered_claim_is_an_auth_error(bad) -> None:
    with pytest.raises(AuthError):
        VERIFIER.verify(_with("user-1", *bad))


@settings(max_examples=500, deadline=None)
@given(
    claims=st.dictionaries(
        st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "x"]),
        JSON_TEXT | HUGE_NUMBERS | NON_FINITE | NEGATIVE | PAST | FUTURE,
    )
)
def test_any_claims_object_is_a_principal_or_an_auth_error(claims: dict[str, str]) -> None:
    try:
        principal = VERIFIER.verify(sign_raw(payload_text(claims)))
    except AuthError:
        return
    assert isinstance(principal.subject, str)


@pytest.mark.parametrize("payload", ["[]", '"x"', "1", "null", "[" * 5000 + "]" * 5000, '{"exp": 1', "\udc80"])
def test_a_payload_that_is_not_a_claims_object_is_an_auth_error(payload: str) -> None:
    with pytest.raises(AuthError):
        VERIFIER.verify(sign_raw(payload))

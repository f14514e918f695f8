"""The verified-token cache: it saves signature checks, never extends a token's life."""

from __future__ import annotations

import time

import jwt
import pytest

from shared import auth
from shared.auth import AuthError, TokenVerifier
from shared.config import DEVELOPMENT_JWT_SECRET, Settings


def _verifier() -> TokenVerifier:
    return TokenVerifier(Settings(app_env="test", auth_leeway_seconds=30))


def _token(**claims: object) -> str:
    return jwt.encode({"sub": "alice", **claims}, DEVELOPMENT_JWT_SECRET, algorithm="HS256")


def test_a_cached_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = _verifier()
    now = time.time()
    token = _token(exp=int(now) + 60)
    assert verifier.verify(token).subject == "alice"
    monkeypatch.setattr(auth.time, "time", lambda: now + 60 + 31)
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


def test_a_cached_token_is_accepted_within_the_leeway(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = _verifier()
    now = time.time()
    token = _token(exp=int(now) + 60)
    verifier.verify(token)
    monkeypatch.setattr(auth.time, "time", lambda: now + 60 + 20)
    assert verifier.verify(token).subject == "alice"


def test_a_second_use_of_a_token_skips_the_signature_check(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = _verifier()
    token = _token(exp=int(time.time()) + 60)
    verifier.verify(token)
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: pytest.fail("decoded again"))
    assert verifier.verify(token).subject == "alice"


def test_the_cache_is_bounded() -> None:
    verifier = _verifier()
    for n in range(auth.VERIFIED_CACHE_SIZE + 10):
        verifier.verify(_token(exp=int(time.time()) + 60, n=n))
    assert len(verifier._verified) == auth.VERIFIED_CACHE_SIZE


def test_a_refused_token_is_not_cached() -> None:
    verifier = _verifier()
    token = _token(exp=int(time.time()) - 3600)
    for _ in range(2):
        with pytest.raises(AuthError, match="expired"):
            verifier.verify(token)
    assert verifier._verified == {}


@pytest.mark.parametrize("exp", ["9999999999", True, None])
def test_exp_must_be_a_number(exp: object) -> None:
    with pytest.raises(AuthError):
        _verifier().verify(_token(exp=exp))

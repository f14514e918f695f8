"""Bearer token verification: pure, no FastAPI.

The accepted algorithms come from the configuration, never from the token: HS256 with a shared
secret, or the algorithm implied by each JWKS key (EdDSA, ES256, RS256). `none` is never accepted;
`jku`, `x5u` and `jwk` headers are never followed.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from shared.config import Settings
from shared.models.limits import USER_ID_MAX

_BAD_SUBJECT = re.compile(r"[/\x00-\x1f\x7f]")
JWKS_REFETCH_SECONDS = 60
JWKS_TIMEOUT_SECONDS = 3
JWKS_MAX_BYTES = 256 * 1024
VERIFIED_CACHE_SIZE = 256

_KEY_ALGORITHMS: dict[tuple[Any, Any], str] = {
    ("OKP", "Ed25519"): "EdDSA",
    ("EC", "P-256"): "ES256",
    ("RSA", None): "RS256",
}


class AuthError(Exception):
    """The token is not acceptable. The message is safe to show: it never contains the token."""


@dataclass(frozen=True)
class Principal:
    subject: str


def _algorithm_for(jwk: dict[str, Any]) -> str | None:
    return _KEY_ALGORITHMS.get((jwk.get("kty"), jwk.get("crv")))


class JWKSCache:
    """Keys by `kid`, fetched on first use; an unknown `kid` refetches at most once a minute."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, tuple[Any, str]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        # The URL's scheme is checked (http/https only) when the settings are read.
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
            document = json.loads(response.read(JWKS_MAX_BYTES))
        keys: dict[str, tuple[Any, str]] = {}
        for jwk in document.get("keys", []):
            algorithm = _algorithm_for(jwk)
            if algorithm is None or "kid" not in jwk or jwk.get("use", "sig") != "sig":
                continue
            if jwk.get("alg") not in (None, algorithm):
                continue
            keys[str(jwk["kid"])] = (get_default_algorithms()[algorithm].from_jwk(jwk), algorithm)
        self._keys = keys

    def key_for(self, kid: str) -> tuple[Any, str]:
        with self._lock:
            now = time.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at >= JWKS_REFETCH_SECONDS
            if kid not in self._keys and stale:
                self._fetched_at = now
                try:
                    self._fetch()
                except (OSError, ValueError, TypeError, AttributeError) as error:
                    raise AuthError("the signing keys could not be loaded") from error
            if kid not in self._keys:
                raise AuthError("the token's key is not known")
            return self._keys[kid]


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self.leeway = settings.auth_leeway_seconds
        self.secret = settings.auth_jwt_secret.get_secret_value().encode() if settings.auth_jwt_secret else None
        self.jwks = JWKSCache(settings.auth_jwks_url) if settings.auth_jwks_url else None
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, header: dict[str, Any]) -> tuple[Any, str]:
        if self.secret is not None:
            return self.secret, "HS256"
        assert self.jwks is not None
        kid = header.get("kid")
        if not isinstance(kid, str) or not 0 < len(kid) <= 256:
            raise AuthError("the token has no usable key id")
        return self.jwks.key_for(kid)

    def verify(self, token: str) -> Principal:
        """The token's principal. A token verified before is answered from a small cache until it
        expires: a front end sends the same token with every call for its whole lifetime, and a
        signature check costs more than the rest of a request's auth work."""
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_until = cached
            if time.time() < valid_until:
                return principal
            raise AuthError("the token has expired")
        principal, expires_at = self._verify(token)
        with self._lock:
            self._verified[token] = (principal, expires_at + self.leeway)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("the token is malformed") from None
        key, algorithm = self._key(header)
        if header.get("alg") != algorithm:
            raise AuthError("the token's algorithm is not accepted")
        required = ["exp", "sub"] + (["iss"] if self.issuer else []) + (["aud"] if self.audience else [])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={
                    "require": required,
                    "verify_aud": self.audience is not None,
                    "verify_iss": self.issuer is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("the token is not valid yet") from None
        except jwt.InvalidIssuerError:
            raise AuthError("the token's issuer is not accepted") from None
        except jwt.InvalidAudienceError:
            raise AuthError("the token's audience is not accepted") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"the token has no {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise AuthError("the token's signature or claims are not valid") from None
        expires_at = claims["exp"]
        if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
            raise AuthError("the token's 'exp' claim is not a NumericDate")  # RFC 7519: a number
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= USER_ID_MAX or _BAD_SUBJECT.search(subject):
            raise AuthError("the token's subject is not a valid user id")
        return Principal(subject=subject), float(expires_at)

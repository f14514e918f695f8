"""Bearer token verification: pure, no FastAPI.

The accepted algorithms come from the configuration, never from the token: HS256 with a shared
secret, or the algorithm implied by each JWKS key (EdDSA, ES256, RS256). `none` is never accepted;
`jku`, `x5u` and `jwk` headers are never followed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from shared.claims import ClaimError, check_claims, parse_payload
from shared.config import Settings

JWKS_REFETCH_SECONDS = 60  # an unknown `kid` refetches at most once a minute (the contract)
JWKS_MAX_AGE_SECONDS = 300  # keys older than this are refreshed by the next request that uses them
JWKS_STALE_SECONDS = 6 * 3600  # while refreshes fail, the last good keys serve this long past their age
JWKS_RETRY_SECONDS = 5  # while refreshes fail, a request that has a (stale) key retries this often
JWKS_TIMEOUT_SECONDS = 3  # the whole fetch, connect to last byte
JWKS_MAX_BYTES = 256 * 1024
VERIFIED_CACHE_SIZE = 256
_JWS = jwt.PyJWS()
__all__ = ["AuthError", "AuthUnavailable", "JWKSCache", "Principal", "TokenVerifier"]
logger = logging.getLogger("tasks_api")

_KEY_ALGORITHMS: dict[tuple[Any, Any], str] = {
    ("OKP", "Ed25519"): "EdDSA",
    ("EC", "P-256"): "ES256",
    ("RSA", None): "RS256",
}


class AuthError(Exception):
    """The token is not acceptable. The message is safe to show: it never contains the token."""


class AuthUnavailable(Exception):
    """The token cannot be checked now: the signing keys could not be loaded. Not the caller's
    fault and not a sign-out: 503 with Retry-After."""

    retry_after = 5


@dataclass(frozen=True)
class Principal:
    subject: str


def _algorithm_for(jwk: Any) -> str | None:
    return _KEY_ALGORITHMS.get((jwk.get("kty"), jwk.get("crv"))) if isinstance(jwk, dict) else None


class JWKSFetchError(Exception):
    """The JWKS document could not be fetched or holds no usable key (the message is safe to log)."""


def _read_capped(url: str) -> bytes:
    deadline = time.monotonic() + JWKS_TIMEOUT_SECONDS
    # The URL's scheme is checked (http/https only) when the settings are read.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    chunks: list[bytes] = []
    size = 0
    with urllib.request.urlopen(request, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
        while True:
            if time.monotonic() > deadline:
                raise JWKSFetchError(f"no complete document within {JWKS_TIMEOUT_SECONDS} s")
            chunk = response.read1(16 * 1024)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > JWKS_MAX_BYTES:
                raise JWKSFetchError(f"the document is larger than {JWKS_MAX_BYTES} bytes")
            chunks.append(chunk)


class JWKSCache:
    """Keys by `kid`. A bad key is skipped (logged once), never the whole set. A failed refresh
    keeps the last good keys (stale-while-error, bounded by JWKS_STALE_SECONDS); with no usable
    keys a request gets AuthUnavailable, and every such request retries, so keys are back as soon
    as the source is. One fetch at a time: a request that waited for another's fetch uses its result."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, tuple[Any, str]] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None
        self._finished_at: float | None = None
        self._failing = False
        self._skipped: set[str] = set()
        self._lock = threading.Lock()

    def _load(self, document: Any) -> dict[str, tuple[Any, str]]:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JWKSFetchError("the document is not a JWKS (an object with a 'keys' list)")
        keys: dict[str, tuple[Any, str]] = {}
        for jwk in document["keys"]:
            algorithm = _algorithm_for(jwk)
            kid = jwk.get("kid") if isinstance(jwk, dict) else None
            if algorithm is None or not isinstance(kid, str) or jwk.get("use", "sig") != "sig":
                continue
            if jwk.get("alg") not in (None, algorithm):
                continue
            try:
                keys[kid] = (get_default_algorithms()[algorithm].from_jwk(jwk), algorithm)
            except Exception as error:  # noqa: BLE001 - any key the library cannot load is skipped
                self._log_skipped(kid, jwk, error)
        if not keys:
            raise JWKSFetchError("the document holds no usable signing key")
        return keys

    def _log_skipped(self, kid: str, jwk: dict[str, Any], error: Exception) -> None:
        fingerprint = hashlib.sha256(json.dumps(jwk, sort_keys=True, default=str).encode()).hexdigest()
        if fingerprint not in self._skipped:
            self._skipped.add(fingerprint)
            line = {"event": "jwks-key-skipped", "kid": kid[:64], "kty": str(jwk.get("kty"))[:16]}
            logger.warning(json.dumps({**line, "error": type(error).__name__}))

    def _refresh(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            document = json.loads(_read_capped(self.url))
            self._keys = self._load(document)
        except (OSError, ValueError, RecursionError, JWKSFetchError) as error:
            if not self._failing:  # one line per outage, not one per request
                reason = str(error) if isinstance(error, JWKSFetchError) else type(error).__name__
                logger.warning(json.dumps({"event": "jwks-refresh-failed", "error": reason}))
            self._failing = True
        else:
            self._loaded_at = self._attempted_at
            self._failing = False
        finally:
            self._finished_at = time.monotonic()

    def _usable(self, now: float) -> dict[str, tuple[Any, str]]:
        if self._loaded_at is None or now - self._loaded_at > JWKS_MAX_AGE_SECONDS + JWKS_STALE_SECONDS:
            return {}
        return self._keys

    def _wants_refresh(self, kid: str, now: float) -> bool:
        keys = self._usable(now)
        if kid not in keys:
            # No key for it: always worth a try after a failure (recovery as soon as the source is
            # back); after a success, at most once per interval (unknown kids cost nothing).
            return self._failing or self._attempted_at is None or now - self._attempted_at >= JWKS_REFETCH_SECONDS
        assert self._loaded_at is not None
        if now - self._loaded_at < JWKS_MAX_AGE_SECONDS:
            return False
        return not self._failing or self._attempted_at is None or now - self._attempted_at >= JWKS_RETRY_SECONDS

    def key_for(self, kid: str) -> tuple[Any, str]:
        arrived = time.monotonic()
        if self._wants_refresh(kid, arrived):
            with self._lock:
                # Someone else fetched while this request waited: use that result.
                waited_for_none = self._finished_at is None or self._finished_at < arrived
                if waited_for_none and self._wants_refresh(kid, time.monotonic()):
                    self._refresh()
        keys = self._usable(time.monotonic())
        if kid in keys:
            return keys[kid]
        if not keys or self._failing:
            raise AuthUnavailable("the signing keys could not be loaded; retry shortly")
        raise AuthError("the token's key is not known")


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
        try:
            # The signature only: the claims are parsed and checked by shared.claims, which
            # refuses every wrong type and range instead of converting it.
            payload = _JWS.decode_complete(token, key, algorithms=[algorithm])["payload"]
        except jwt.PyJWTError:
            raise AuthError("the token's signature or claims are not valid") from None
        try:
            claims = parse_payload(payload)
            subject, expires_at = check_claims(
                claims, now=time.time(), leeway=self.leeway, issuer=self.issuer, audience=self.audience
            )
        except ClaimError as error:
            raise AuthError(str(error)) from None
        return Principal(subject=subject), expires_at

"""Tokens for the tests: HS256 ones signed like the development tokens, and hand-made ones."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt

from shared.config import DEVELOPMENT_JWT_SECRET


def make_token(
    sub: str | None,
    *,
    secret: Any = DEVELOPMENT_JWT_SECRET,
    algorithm: str = "HS256",
    lifetime: int = 300,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A JWT for `sub` (None: no sub claim) that expires `lifetime` seconds from now; `secret` may
    be a private key for an asymmetric `algorithm`."""
    payload: dict[str, Any] = {"exp": int(time.time()) + lifetime, **claims}
    if sub is not None:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def auth(sub: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub, **claims)}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, for headers and algorithms a library would refuse to produce."""
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(signature)])

"""The registered JWT claims (RFC 7519 section 4.1), checked by type and range after the signature.

Total by construction: the payload is parsed here (NaN and Infinity refused, numbers compared as
Python numbers, never converted), every registered claim that is present must have its RFC type,
and every way a claim can be wrong is an AuthError, never another exception.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from shared.models.limits import USER_ID_MAX

_BAD_SUBJECT = re.compile(r"[/\x00-\x1f\x7f]")
# NumericDate range accepted: the epoch to the end of year 9999. Past it a date names no instant
# a clock will reach (and 10**400 is not a float at all).
NUMERIC_DATE_MAX = 253_402_300_799


class ClaimError(Exception):
    """A claim is missing, of the wrong type or out of range. The message is safe to show."""


def _fail(message: str) -> NoReturn:
    raise ClaimError(message)


def _no_constants(name: str) -> NoReturn:
    _fail("the token's claims are not valid JSON")


def parse_payload(payload: bytes) -> dict[str, Any]:
    try:
        claims = json.loads(payload, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, an integer past the digit limit
        _fail("the token's claims are not valid JSON")
    if not isinstance(claims, dict):
        _fail("the token's claims are not a JSON object")
    return claims


def numeric_date(claims: dict[str, Any], name: str) -> float | None:
    """The claim as seconds since the epoch, None when absent; anything else is refused."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"the token's {name!r} claim is not a NumericDate")
    if isinstance(value, float) and not math.isfinite(value):
        _fail(f"the token's {name!r} claim is not a NumericDate")
    if not 0 <= value <= NUMERIC_DATE_MAX:  # int and float compare exactly, with no conversion
        _fail(f"the token's {name!r} claim is out of range")
    return float(value)


def _string(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if name in claims and not isinstance(value, str):
        _fail(f"the token's {name!r} claim is not a string")
    return value


def _audiences(claims: dict[str, Any]) -> list[str] | None:
    if "aud" not in claims:
        return None
    value = claims["aud"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        _fail("the token's 'aud' claim is not a string or a list of strings")
    return values


def check_claims(
    claims: dict[str, Any], *, now: float, leeway: float, issuer: str | None, audience: str | None
) -> tuple[str, float]:
    """The subject and the expiry of a token whose claims are all acceptable."""
    expires_at = numeric_date(claims, "exp")
    not_before = numeric_date(claims, "nbf")
    issued_at = numeric_date(claims, "iat")
    token_issuer = _string(claims, "iss")
    subject = _string(claims, "sub")
    _string(claims, "jti")
    audiences = _audiences(claims)
    if expires_at is None:
        _fail("the token has no 'exp' claim")
    if subject is None:
        _fail("the token has no 'sub' claim")
    if expires_at <= now - leeway:
        _fail("the token has expired")
    if (not_before is not None and not_before > now + leeway) or (issued_at is not None and issued_at > now + leeway):
        _fail("the token is not valid yet")
    if issuer is not None:
        if token_issuer is None:
            _fail("the token has no 'iss' claim")
        if token_issuer != issuer:
            _fail("the token's issuer is not accepted")
    if audience is not None:
        if audiences is None:
            _fail("the token has no 'aud' claim")
        if audience not in audiences:
            _fail("the token's audience is not accepted")
    if not 0 < len(subject) <= USER_ID_MAX or _BAD_SUBJECT.search(subject):
        _fail("the token's subject is not a valid user id")
    return subject, expires_at

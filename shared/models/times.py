"""Time rules: RFC 3339 in (with an offset, normalised to UTC), RFC 3339 out (UTC, microseconds)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, PlainSerializer

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_only(value: Any) -> Any:
    # Lax datetime parsing would take a number, or a numeric string, as Unix time.
    if value is not None and not isinstance(value, datetime) and not (isinstance(value, str) and _RFC3339.match(value)):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2030-01-31T09:00:00Z")
    return value


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within the years 1-9999 in UTC") from None


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only), AfterValidator(_to_utc)]
DueAt = Annotated[AwareDatetime | None, BeforeValidator(_rfc3339_only), AfterValidator(_to_utc)]
Timestamp = Annotated[datetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]

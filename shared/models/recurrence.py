"""What clients send for recurrence: the rule, its basis and its zone, with their schemas."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from shared.models.limits import RECURRENCE_MAX, TIMEZONE_MAX
from shared.recurrence import DESCRIPTION, PATTERN, RuleError, check_timezone, normalize_rule, zone_names


def _rule(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > RECURRENCE_MAX:
        raise ValueError(f"recurrence must be at most {RECURRENCE_MAX} characters")
    try:
        return normalize_rule(value)
    except RuleError as error:
        raise ValueError(str(error)) from None


def _zone(value: str) -> str:
    try:
        return check_timezone(value)
    except RuleError as error:
        raise ValueError(str(error)) from None


Recurrence = Annotated[
    str | None,
    AfterValidator(_rule),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "maxLength": RECURRENCE_MAX, "pattern": PATTERN}, {"type": "null"}],
            "description": DESCRIPTION,
            "examples": ["FREQ=WEEKLY;BYDAY=MO,WE"],
        }
    ),
]


def _zone_enum(schema: dict[str, Any]) -> None:
    # Filled in when the OpenAPI document is built, not at import: a cold start skips the zone list.
    schema["enum"] = sorted(zone_names())


TimeZone = Annotated[
    str,
    AfterValidator(_zone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": TIMEZONE_MAX,
            "description": "The IANA time zone the rule is expanded in (wall-clock times kept across "
            "daylight-saving changes).",
        }
    ),
    Field(json_schema_extra=_zone_enum),
]

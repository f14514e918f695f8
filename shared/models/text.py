"""Text rules for what clients send: trimming, lengths, control characters, tags."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from shared.models.limits import DESCRIPTION_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX

# Control characters, and lone surrogates (valid JSON escapes that no UTF-8 database can store).
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# What "surrounding whitespace" trims: Unicode white space. Python's str.isspace() also counts
# the separators U+001C-U+001F, which are control characters and must be refused, not trimmed.
_WHITESPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")


def _check_title(value: str) -> str:
    value = value.strip(_WHITESPACE)
    if not value:
        raise ValueError("title must not be blank")
    if len(value) > TITLE_MAX:
        raise ValueError(f"title must be at most {TITLE_MAX} characters")
    if CONTROL_CHARS.search(value):
        raise ValueError("title must not contain control characters")
    return value


def _check_description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(f"description must be at most {DESCRIPTION_MAX} characters")
    if _CONTROL_EXCEPT_WHITESPACE.search(value):
        raise ValueError("description must not contain control characters other than line breaks and tabs")
    return value


def normalize_tag(value: str) -> str:
    value = value.strip(_WHITESPACE).lower()
    if not 1 <= len(value) <= TAG_MAX:
        raise ValueError(f"each tag must be 1-{TAG_MAX} characters")
    if CONTROL_CHARS.search(value):
        raise ValueError("tags must not contain control characters")
    return value


def normalize_tags(values: list[str]) -> list[str]:
    """Normalised and deduplicated, in the order first given."""
    return list(dict.fromkeys(normalize_tag(v) for v in values))


def _check_tags(values: list[str]) -> list[str]:
    tags = normalize_tags(values)
    if len(tags) > TAGS_MAX:
        raise ValueError(f"at most {TAGS_MAX} distinct tags")
    return tags


def visible(value: str | None) -> str | None:
    if value is not None and CONTROL_CHARS.search(value):
        raise ValueError("must not contain control characters")
    return value


# The schemas tell clients the rule after trimming: some visible character, no control character.
# The white space is spelled out (not `\\s`): regex engines disagree on what `\\s` covers (U+0085).
_SPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in _WHITESPACE)
_VISIBLE_TEXT = f"^[^\\x00-\\x1f\\x7f]*[^{_SPACE_CLASS}\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]*$"
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"
Title = Annotated[
    str,
    AfterValidator(_check_title),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": TITLE_MAX, "pattern": _VISIBLE_TEXT}),
]
Description = Annotated[
    str | None,
    Field(max_length=DESCRIPTION_MAX),
    AfterValidator(_check_description),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "maxLength": DESCRIPTION_MAX,
                    "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$",
                },
                {"type": "null"},
            ]
        }
    ),
]
Tag = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": _VISIBLE_TEXT})]
Tags = Annotated[
    list[Tag],
    Field(max_length=TAGS_MAX * 5),
    AfterValidator(_check_tags),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": _VISIBLE_TEXT},
            "maxItems": TAGS_MAX,
        }
    ),
]

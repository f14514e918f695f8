"""Total conversions of caller text: each returns a value or None and never raises.

Python's own conversions are not total: `str.isdigit()` is true for `²` (which `int()` refuses),
`int()` accepts other scripts' digits (`int("٣") == 3`) and refuses more than 4300 digits. Caller
text (paths, headers, cursors, ETags) goes through these instead.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")
_CANONICAL = re.compile(r"0|[1-9][0-9]*")
BIGINT_MAX = 2**63 - 1


def parse_int(text: str, *, max_value: int = BIGINT_MAX) -> int | None:
    """A decimal integer 0..max_value written in ASCII digits (leading zeros allowed); else None."""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(max_value)):
        return None
    value = int(significant)
    return value if value <= max_value else None


def parse_canonical_int(text: str, *, max_value: int = BIGINT_MAX) -> int | None:
    """Like parse_int, but only the one spelling `str(n)` gives: `01` and `+1` are not 1."""
    if not _CANONICAL.fullmatch(text):
        return None
    return parse_int(text, max_value=max_value)

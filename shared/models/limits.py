"""Every limit, said once: validation, the table's constraints, the OpenAPI document and the tests read them."""

from __future__ import annotations

TITLE_MAX = 255
DESCRIPTION_MAX = 1000
TAGS_MAX = 20
TAG_MAX = 50
# A user id is a token's subject: the auth check, the path parameter and the columns share it.
USER_ID_MAX = 255
LIST_NAME_MAX = 100
ROW_ID_MAX = 2**63 - 1  # ids are positive bigints
POSITION_KEY_MAX = 64  # a manual-order key longer than this rebalances its scope
TIMEZONE_MAX = 64  # an IANA zone name
RECURRENCE_MAX = 500  # an RRULE value

SEARCH_MAX = 255  # a listing's `q`
# A list cursor (shared/cursor.py): fixed bytes plus its sort source's text, base64url without padding.
# The largest source is a title: TITLE_MAX characters of at most 4 UTF-8 bytes each.
CURSOR_OVERHEAD_BYTES = 38
SORT_SOURCE_MAX_BYTES = 4 * TITLE_MAX


def cursor_length(value_bytes: int) -> int:
    """How long a cursor holding a sort source of this many bytes is (at most)."""
    return -(-(CURSOR_OVERHEAD_BYTES + value_bytes) * 4 // 3)


CURSOR_MAX = cursor_length(SORT_SOURCE_MAX_BYTES)
LIST_LIMIT_DEFAULT = 100
LIST_LIMIT_MAX = 200

IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_TTL_HOURS = 24
# Recurrence rules: bounds on what a client may ask for, and how far ahead a next occurrence is sought.
RECURRENCE_INTERVAL_MAX = 1000
RECURRENCE_COUNT_MAX = 1000
RECURRENCE_HORIZON_YEARS = 100  # a next occurrence further ahead counts as none

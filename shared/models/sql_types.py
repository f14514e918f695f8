"""Column types whose stored form differs from the Python value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeDecorator

from shared.models.priority import PRIORITY_RANK, RANK_PRIORITY, Priority


class PriorityRank(TypeDecorator[Priority]):
    """Stored as 0/1/2 so that sorting by priority is an index scan, exposed as its name."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else PRIORITY_RANK[Priority(value)]

    def process_result_value(self, value: Any, dialect: Any) -> Priority | None:
        return None if value is None else RANK_PRIORITY[value]


class TagList(TypeDecorator[list[str]]):
    """text[]: psycopg2 already returns a list of str, so no per-item result processing."""

    impl = ARRAY(Text)
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None

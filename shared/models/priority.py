"""A task's priority, and the rank it is stored and sorted by: the one mapping between them."""

from __future__ import annotations

import enum


class Priority(str, enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"


PRIORITY_RANK = {Priority.low: 0, Priority.medium: 1, Priority.high: 2}
RANK_PRIORITY = {rank: priority for priority, rank in PRIORITY_RANK.items()}

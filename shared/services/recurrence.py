"""Recurring tasks: where a task goes when it is completed (the rules themselves: shared.recurrence)."""

from __future__ import annotations

from datetime import datetime

from shared.models.task import TaskRecord
from shared.recurrence import next_occurrence


def next_due(task: TaskRecord, *, now: datetime) -> datetime | None:
    """The due date a recurring task moves to when completed now; None when its rule has ended.

    Basis "due": the next occurrence after the current due date. Basis "completion": the next one
    after now, and never the current one or an earlier one (a task completed early still moves on).
    """
    assert task.recurrence is not None and task.due_at is not None
    after = task.due_at if task.recurrence_basis == "due" else max(now, task.due_at)
    start = task.recurrence_start or task.due_at
    return next_occurrence(task.recurrence, start=start, timezone=task.timezone, after=after)

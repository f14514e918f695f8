"""What the adversarial suite shares beyond tests/support: the task's public fields."""

from __future__ import annotations

from shared.models.task import PUBLIC_FIELDS

TASK_FIELDS = set(PUBLIC_FIELDS)

"""What the adversarial suite shares beyond tests/support: the task's public fields."""

from __future__ import annotations

TASK_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "tags",
    "created_at",
    "updated_at",
}

"""a recurring task has a due date

Expand-only: one CHECK, added NOT VALID and then validated, so adding it never blocks writes
(VALIDATE takes a lock that lets them through). No row can violate it: the previous release
never sets `recurrence`.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tasks ADD CONSTRAINT tasks_recurrence_needs_due_at "
        "CHECK (recurrence IS NULL OR due_at IS NOT NULL) NOT VALID"
    )
    op.execute("ALTER TABLE tasks VALIDATE CONSTRAINT tasks_recurrence_needs_due_at")


def downgrade() -> None:
    op.drop_constraint("tasks_recurrence_needs_due_at", "tasks", type_="check")

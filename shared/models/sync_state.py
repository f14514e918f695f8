"""Per user: the change counter that every write bumps (see migration 0002's trigger), and the
highest change position whose tombstone may have been pruned (older sync tokens get 410)."""

from __future__ import annotations

from sqlalchemy import BIGINT, Column, String, Table, text
from sqlmodel import SQLModel

from shared.models.limits import USER_ID_MAX

sync_state = Table(
    "sync_state",
    SQLModel.metadata,
    Column("user_id", String(USER_ID_MAX), primary_key=True),
    Column("seq", BIGINT, nullable=False, server_default=text("0")),
    Column("pruned_seq", BIGINT, nullable=False, server_default=text("0")),
)

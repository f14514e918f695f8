"""Idempotency keys for task creation: a replayable snapshot of the first response, per user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, PrimaryKeyConstraint, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.models.limits import IDEMPOTENCY_KEY_MAX, USER_ID_MAX


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "key", name="idempotency_keys_pkey"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    user_id: str = Field(sa_column=Column(String(USER_ID_MAX), nullable=False))
    key: str = Field(sa_column=Column(String(IDEMPOTENCY_KEY_MAX), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

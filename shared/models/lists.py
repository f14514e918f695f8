"""The list (a named group of tasks, in the user's own order): its fields said once, in ListRecord."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import create_model
from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Table, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import BIGINT
from sqlmodel import SQLModel

from shared.models.limits import LIST_NAME_MAX, USER_ID_MAX
from shared.models.record import PRIVATE, Col, Record
from shared.models.times import Timestamp

_TIME = DateTime(timezone=True)


@dataclass(frozen=True, slots=True)
class ListRecord:
    id: Annotated[int, Col(BIGINT, primary_key=True, autoincrement=True)]
    user_id: Annotated[str, Col(String(USER_ID_MAX)), PRIVATE]
    name: Annotated[str, Col(String(LIST_NAME_MAX))]
    position: Annotated[str, Col(Text(collation="C"), nullable=True)]
    version: Annotated[int, Col(Integer, server_default=text("1")), PRIVATE]
    created_at: Annotated[Timestamp, Col(_TIME, server_default=func.now())]
    updated_at: Annotated[Timestamp, Col(_TIME, server_default=func.now())]
    deleted_at: Annotated[Timestamp | None, Col(_TIME, nullable=True), PRIVATE]
    change_seq: Annotated[int, Col(BIGINT, server_default=text("0")), PRIVATE]


LIST: Record[ListRecord] = Record.of(ListRecord)
ListPublic = create_model("ListPublic", **LIST.public_schema)

lists = Table(
    "lists",
    SQLModel.metadata,
    *LIST.table_columns(),
    CheckConstraint(f"char_length(name) BETWEEN 1 AND {LIST_NAME_MAX}", name="lists_name_length"),
    # The target of the tasks' composite key (user_id, list_id): a task can only name its owner's list.
    UniqueConstraint("user_id", "id", name="lists_user_id_id_key"),
    Index(
        "ux_lists_user_name",
        "user_id",
        func.lower(text("name")),
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index("ux_lists_user_position", "user_id", "position", unique=True),
    Index("ix_lists_user_change", "user_id", "change_seq"),
)

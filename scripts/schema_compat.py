"""Is a schema change expand-only? The previous release keeps serving while (and after) the new
schema is applied: during a canary both releases run side by side, and a rollback returns to the
old code without undoing the migration. So, from the old schema to the new one:

- no table, view or column the old schema had may disappear (a rename is a drop plus an add);
- no column may change its type, become NOT NULL, or lose the default a NOT NULL column had;
- a new column on an existing table must be nullable, or have a default (or be generated or an
  identity), or the old release's INSERTs fail.

New tables, indexes and constraints on new columns are fine. Snapshots come from pg_catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

COLUMNS_SQL = text(
    """
    SELECT c.relname, c.relkind::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0
      AND NOT a.attisdropped AND c.relname NOT IN ('alembic_version')
    """
)


@dataclass(frozen=True)
class Column:
    type: str
    not_null: bool
    default: str | None
    identity: bool
    generated: bool

    @property
    def fills_itself(self) -> bool:
        return self.default is not None or self.identity or self.generated


Schema = dict[str, dict[str, Column]]  # relation -> column -> Column


def snapshot(connection: Any) -> Schema:
    schema: Schema = {}
    for relation, _kind, name, type_, not_null, default, identity, generated in connection.execute(COLUMNS_SQL):
        schema.setdefault(relation, {})[name] = Column(
            type=type_, not_null=bool(not_null), default=default, identity=bool(identity), generated=bool(generated)
        )
    return schema


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Why the previous release could break on ``new``; empty when the change only adds."""
    problems: list[str] = []
    for relation, old_columns in sorted(old.items()):
        new_columns = new.get(relation)
        if new_columns is None:
            problems.append(f"{relation}: dropped or renamed (the previous release still reads it)")
            continue
        for name, before in sorted(old_columns.items()):
            after = new_columns.get(name)
            where = f"{relation}.{name}"
            if after is None:
                problems.append(f"{where}: dropped or renamed (the previous release still reads it)")
                continue
            if after.type != before.type:
                problems.append(f"{where}: type changed from {before.type} to {after.type}")
            if after.not_null and not before.not_null:
                problems.append(f"{where}: became NOT NULL (the previous release may write NULL)")
            if before.not_null and before.fills_itself and not after.fills_itself:
                problems.append(f"{where}: lost its default (the previous release's INSERTs rely on it)")
        for name, added in sorted(new_columns.items()):
            if name not in old_columns and added.not_null and not added.fills_itself:
                problems.append(
                    f"{relation}.{name}: new NOT NULL column without a default "
                    "(the previous release's INSERTs do not set it)"
                )
    return problems

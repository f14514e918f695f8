"""One definition per stored entity: a frozen dataclass whose fields say their type and column.

Each field gives its Python type (which also decides its JSON) and, in a `Col`, how it is stored.
`Record.of(cls)` derives the rest: the field order (the table's column order, so `cls(*row)` builds
one), the public fields, the columns and the response schema's fields. A field marked `PRIVATE` is stored but
never shown to clients.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar, get_type_hints

from pydantic import TypeAdapter
from sqlalchemy import Column

T = TypeVar("T")


class Col:
    """How a record field is stored: a column named after the field (arguments as for `Column`)."""

    def __init__(self, type_: Any, **options: Any) -> None:
        self.type = type_
        self.options = {"nullable": False, **options}


PRIVATE = object()  # marks a stored field that responses leave out


@dataclass(frozen=True)
class Record(Generic[T]):
    fields: tuple[str, ...]
    private_fields: frozenset[str]
    public_fields: tuple[str, ...]
    columns: dict[str, Col]
    public_schema: dict[str, Any]  # the response schema's fields, for create_model
    adapter: TypeAdapter[T]
    many: TypeAdapter[list[T]]

    @classmethod
    def of(cls, record: type[T]) -> Record[T]:
        hints = get_type_hints(record, include_extras=True)
        names = tuple(f.name for f in fields(record))  # type: ignore[arg-type]
        meta = {name: tuple(getattr(hints[name], "__metadata__", ())) for name in names}
        private = frozenset(name for name in names if PRIVATE in meta[name])
        public = tuple(name for name in names if name not in private)
        return cls(
            fields=names,
            private_fields=private,
            public_fields=public,
            columns={name: next(m for m in meta[name] if isinstance(m, Col)) for name in names},
            public_schema={name: (hints[name], ...) for name in public},
            adapter=TypeAdapter(record),
            many=TypeAdapter(list[record]),  # type: ignore[valid-type]
        )

    def table_columns(self) -> list[Column[Any]]:
        return [Column(name, col.type, **col.options) for name, col in self.columns.items()]

    def json(self, value: T) -> bytes:
        """The value as the API shows it (the public model's shape), serialised without a validation pass."""
        return self.adapter.dump_json(value, exclude=set(self.private_fields))

    def json_many(self, values: list[T]) -> bytes:
        return self.many.dump_json(values, exclude={"__all__": set(self.private_fields)})

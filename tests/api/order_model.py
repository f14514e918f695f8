"""A reference model of manual order for the property tests: each scope's tasks in order, with
the keys the `fractional-indexing` package computes for the same operations."""

from __future__ import annotations

from dataclasses import dataclass, field

import fractional_indexing

from shared.models.limits import POSITION_KEY_MAX

Scope = tuple[int | None, int | None]  # (list_id, parent_id)


@dataclass
class OrderModel:
    keys: dict[int, str] = field(default_factory=dict)
    scope_of: dict[int, Scope] = field(default_factory=dict)

    def in_scope(self, scope: Scope) -> list[int]:
        return sorted((t for t, s in self.scope_of.items() if s == scope), key=lambda t: self.keys[t])

    def key_for(self, scope: Scope, after: int | None, *, last: bool = False, moving: int | None = None) -> str:
        order = [t for t in self.in_scope(scope) if t != moving]
        if last:
            return fractional_indexing.generate_key_between(self.keys[order[-1]] if order else None, None)
        if after is None:
            return fractional_indexing.generate_key_between(None, self.keys[order[0]] if order else None)
        index = order.index(after)
        following = self.keys[order[index + 1]] if index + 1 < len(order) else None
        return fractional_indexing.generate_key_between(self.keys[after], following)

    def place(self, task: int, scope: Scope, key: str) -> None:
        self.scope_of[task] = scope
        self.keys[task] = key
        if len(key) > POSITION_KEY_MAX:
            order = self.in_scope(scope)
            for t, k in zip(order, fractional_indexing.generate_n_keys_between(None, None, len(order)), strict=True):
                self.keys[t] = k

    def subtasks(self, parent: int) -> list[int]:
        return [t for t, (_, p) in self.scope_of.items() if p == parent]

    def remove(self, task: int) -> None:
        for t in [task, *self.subtasks(task)]:
            del self.keys[t], self.scope_of[t]

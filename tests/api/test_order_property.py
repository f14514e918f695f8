"""Property test: random creates, moves (within a scope, to another list, under or out of a
parent) and deletes through the API; after each run, every scope's sort=position listing equals
a reference model whose keys come from the `fractional-indexing` package. Runs on the default
database and on one created with an en_US collation (where byte order is not the default)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from tests.api.order_helpers import create_list
from tests.api.order_model import OrderModel, Scope
from tests.migrations.test_ordering_and_change_sql import en_us_url  # noqa: F401  (a fixture)
from tests.support.users import UserClient

EXAMPLES = 25
STEPS = 50  # 1,250 random operations per database


def order_machine(client: Any) -> type[RuleBasedStateMachine]:
    class Order(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = OrderModel()
            self.user = UserClient(client, f"prop-{uuid.uuid4().hex[:12]}")
            self.lists: list[int | None] = [None]

        @initialize()
        def make_lists(self) -> None:
            self.lists += [create_list(self.user, f"list {i}")["id"] for i in range(2)]

        def tasks(self) -> list[int]:
            return sorted(self.model.keys)

        def check(self, response: Any, task: int) -> None:
            assert response.status_code in (200, 201), response.text
            body = response.json()
            assert body["position"] == self.model.keys[task], (body, self.model.keys[task])
            assert (body["list_id"], body["parent_id"]) == self.model.scope_of[task]

        @rule(data=st.data(), where=st.sampled_from(["last", "first", "after"]), under=st.booleans())
        def create(self, data: st.DataObject, where: str, under: bool) -> None:
            parents = [t for t in self.tasks() if self.model.scope_of[t][1] is None]
            if under and parents:
                parent = data.draw(st.sampled_from(parents))
                scope: Scope = (self.model.scope_of[parent][0], parent)
                body: dict[str, Any] = {"parent_id": parent}
            else:
                scope = (data.draw(st.sampled_from(self.lists)), None)
                body = {"list_id": scope[0]}
            siblings = self.model.in_scope(scope)
            if where == "after" and siblings:
                after = data.draw(st.sampled_from(siblings))
                key = self.model.key_for(scope, after)
                body["after_id"] = after
            elif where == "first":
                key = self.model.key_for(scope, None)
                body["after_id"] = None
            else:
                key = self.model.key_for(scope, None, last=True)
            response = self.user.request("POST", json={"title": "t", **body})
            assert response.status_code == 201, response.text
            self.model.place(response.json()["id"], scope, key)
            self.check(response, response.json()["id"])

        @precondition(lambda self: self.model.keys)
        @rule(data=st.data(), retarget=st.sampled_from(["stay", "list", "parent", "top"]))
        def move(self, data: st.DataObject, retarget: str) -> None:
            task = data.draw(st.sampled_from(self.tasks()))
            list_id, parent_id = self.model.scope_of[task]
            has_subtasks = bool(self.model.subtasks(task))
            body: dict[str, Any] = {}
            if retarget == "list" and parent_id is None:
                list_id = data.draw(st.sampled_from(self.lists))
                body["list_id"] = list_id
            elif retarget == "parent" and not has_subtasks:
                parents = [t for t in self.tasks() if self.model.scope_of[t][1] is None and t != task]
                if parents:
                    parent_id = data.draw(st.sampled_from(parents))
                    list_id = self.model.scope_of[parent_id][0]
                    body["parent_id"] = parent_id
            elif retarget == "top" and parent_id is not None:
                parent_id = None
                body["parent_id"] = None
            scope = (list_id, parent_id)
            candidates = [t for t in self.model.in_scope(scope) if t != task]
            after = data.draw(st.sampled_from([None, *candidates]))
            key = self.model.key_for(scope, after, moving=task)
            response = self.user.request("POST", f"/{task}/move", json={"after_id": after, **body})
            assert response.status_code == 200, response.text
            followers = self.model.subtasks(task)
            self.model.place(task, scope, key)
            for child in followers:  # subtasks follow their parent's list, keys unchanged
                self.model.scope_of[child] = (list_id, task)
            self.check(response, task)

        @precondition(lambda self: len(self.model.keys) >= 2)
        @rule(data=st.data())
        def move_after_a_task_of_another_scope_is_refused(self, data: st.DataObject) -> None:
            task, after = data.draw(st.lists(st.sampled_from(self.tasks()), min_size=2, max_size=2, unique=True))
            if self.model.scope_of[task] == self.model.scope_of[after]:
                return
            response = self.user.request("POST", f"/{task}/move", json={"after_id": after})
            assert response.status_code == 422, response.text

        @precondition(lambda self: self.model.keys)
        @rule(data=st.data())
        def delete(self, data: st.DataObject) -> None:
            task = data.draw(st.sampled_from(self.tasks()))
            assert self.user.request("DELETE", f"/{task}").status_code == 204
            self.model.remove(task)

        def teardown(self) -> None:
            scopes = set(self.model.scope_of.values()) | {(lst, None) for lst in self.lists}
            for list_id, parent_id in scopes:
                params = {
                    "sort": "position",
                    "limit": 200,
                    "list_id": "inbox" if list_id is None else str(list_id),
                    "parent_id": "none" if parent_id is None else str(parent_id),
                }
                listed = self.user.request("GET", params=params).json()
                expected = self.model.in_scope((list_id, parent_id))
                assert [t["id"] for t in listed] == expected
                assert [t["position"] for t in listed] == [self.model.keys[t] for t in expected]
            assert self.user.request("GET", "/stats").json()["total"] == len(self.model.keys)
            everything = self.user.request("GET", params={"sort": "position", "limit": 200}).json()
            assert [t["id"] for t in everything] == sorted(self.model.keys, key=lambda t: (self.model.keys[t], t))

    return Order


RUN = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def test_random_creates_moves_and_deletes_match_the_reference_model(client):
    run_state_machine_as_test(order_machine(client), settings=RUN)


@pytest.fixture
def en_us_client(en_us_url: str, configure: Callable[..., None], app: Any) -> Iterator[Any]:  # noqa: F811
    from fastapi.testclient import TestClient

    configure(DATABASE_URL=en_us_url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_same_on_a_database_with_an_en_us_collation(en_us_client):
    run_state_machine_as_test(order_machine(en_us_client), settings=RUN)

"""Recurring tasks through the real Lambda handler, with API Gateway events of both payload versions."""

from __future__ import annotations

import json

import pytest

from tests.functions.lambda_events import V1, V2, with_body
from tests.functions.test_handler_events import Invoke, assert_json, create, event, new_id


@pytest.mark.parametrize("api", [V2, V1])
def test_completing_a_recurring_task_moves_it_to_the_next_occurrence(invoke: Invoke, api: str) -> None:
    user = new_id()
    task = create(
        invoke, api, user, title="water plants", due_at="2026-10-19T09:00:00+02:00",
        recurrence="FREQ=WEEKLY;BYDAY=MO", timezone="Europe/Berlin",
    )  # fmt: skip
    assert (task["recurrence"], task["recurrence_basis"], task["timezone"]) == (
        "FREQ=WEEKLY;BYDAY=MO",
        "due",
        "Europe/Berlin",
    )
    done = assert_json(
        invoke(event(api, "patch_task_complete", user, task_id=task["id"])), 200, ETag=f'"{task["id"]}.2"'
    )
    # 09:00 in Berlin after the end of summer time.
    assert (done["completed"], done["due_at"]) == (False, "2026-10-26T08:00:00.000000Z")
    assert done["last_completed_at"] is not None


@pytest.mark.parametrize("api", [V2, V1])
def test_a_rule_without_due_date_is_422_through_the_handler(invoke: Invoke, api: str) -> None:
    user = new_id()
    post = with_body(
        event(api, "post_task", user),
        json.dumps({"title": "t", "recurrence": "FREQ=DAILY"}).encode(),
        "application/json",
    )
    call = invoke(post)
    assert call.status == 422
    assert call.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in call.json()["errors"]] == [["body", "recurrence"]]

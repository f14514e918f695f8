"""Recurring completions under concurrency, their round trips, and a property test through the API
against dateutil's own expansion."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from shared.db import get_engine, open_session
from shared.errors import EditConflict
from shared.models.task_input import TaskUpdate
from shared.services import tasks as service
from tests.support.problems import assert_problem
from tests.unit.test_recurrence_rules import ZONES, bases, rules, synced_start


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement the app's engine sends (one round trip each: the engine runs in autocommit)."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        sent.append(sql)

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", record)
    yield sent
    event.remove(engine, "after_cursor_execute", record)


def test_completing_a_plain_task_is_one_round_trip_and_a_recurring_one_two(alice, statements):
    plain = alice.create()
    recurring = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    statements.clear()
    assert alice.request("PATCH", f"/{plain['id']}/complete").status_code == 200
    assert len(statements) == 1
    statements.clear()
    assert alice.request("PATCH", f"/{recurring['id']}/complete").status_code == 200
    assert len(statements) == 2
    statements.clear()
    assert alice.request("PATCH", f"/{recurring['id']}", json={"recurrence": "FREQ=WEEKLY"}).status_code == 200
    assert len(statements) == 1


@pytest.fixture
def edit_during_completion(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """Another request moves the task's due date after the completion read the task and before it
    writes: the computed occurrence is then stale."""
    calls: list[datetime] = []
    real = service.next_due

    def racing(task: Any, *, now: datetime) -> datetime | None:
        if not calls:
            with open_session() as session:
                service.update_task(
                    session,
                    owner_id=task.user_id,
                    task_id=task.id,
                    task_in=TaskUpdate(due_at=datetime(2030, 2, 1, 9, tzinfo=UTC)),
                )
        calls.append(task.due_at)
        return real(task, now=now)

    monkeypatch.setattr(service, "next_due", racing)
    yield calls


def test_an_edit_between_read_and_write_is_retried_from_the_edited_task(alice, edit_during_completion):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    done = alice.request("PATCH", f"/{task['id']}/complete")
    assert done.status_code == 200
    # One occurrence after the edited due date: never the stale one, never two.
    assert done.json()["due_at"] == "2030-02-02T09:00:00.000000Z"
    assert edit_during_completion == [datetime(2030, 1, 1, 9, tzinfo=UTC), datetime(2030, 2, 1, 9, tzinfo=UTC)]


def test_an_edit_between_read_and_write_is_412_under_if_match(alice, edit_during_completion):
    created = alice.request("POST", json={"title": "t", "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"})
    task_id = created.json()["id"]
    response = alice.request("PATCH", f"/{task_id}/complete", headers={"If-Match": created.headers["etag"]})
    assert_problem(response, 412)
    after = alice.request("GET", f"/{task_id}").json()
    assert (after["due_at"], after["completed"], after["last_completed_at"]) == (
        "2030-02-01T09:00:00.000000Z",
        False,
        None,
    )


def test_simultaneous_completions_each_take_one_occurrence(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        with open_session() as session:
            try:
                results.append(
                    service.complete_task(session, owner_id=alice.user_id, task_id=task["id"], completed=True)
                )
            except EditConflict as conflict:
                results.append(conflict)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moved = sorted(r.due_at for r in results if not isinstance(r, EditConflict))
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert moved == [start + timedelta(days=n) for n in range(1, len(moved) + 1)]
    assert len(moved) >= 1
    final = alice.request("GET", f"/{task['id']}").json()
    assert final["due_at"] == moved[-1].isoformat().replace("+00:00", ".000000Z")


@given(rule=rules(), zone=st.sampled_from(ZONES), base=bases)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
def test_completing_repeatedly_follows_dateutils_expansion(alice, rule, zone, base):
    start = synced_start(rule, zone, base)
    created = alice.request(
        "POST", json={"title": "t", "due_at": start.isoformat(), "recurrence": rule, "timezone": zone}
    )
    if created.status_code == 422:
        assume(False)
    assert created.status_code == 201, created.text
    expected = [d.astimezone(UTC) for d in rrulestr(rule, dtstart=start.astimezone(ZoneInfo(zone)))[:6]]
    task_id = created.json()["id"]
    for occurrence in expected[1:]:
        done = alice.request("PATCH", f"/{task_id}/complete").json()
        assert (done["completed"], datetime.fromisoformat(done["due_at"])) == (False, occurrence)
    if len(expected) < 6:
        final = alice.request("PATCH", f"/{task_id}/complete").json()
        assert (final["completed"], datetime.fromisoformat(final["due_at"])) == (True, expected[-1])

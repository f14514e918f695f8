"""GET /tasks/stats: exact counts of the caller's tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

PAST = "2001-02-03T04:05:06Z"
FUTURE = "2999-01-01T00:00:00Z"


def stats(user: Any) -> dict[str, int]:
    response = user.request("GET", "/stats")
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


def test_a_user_without_tasks_gets_all_zeros(alice):
    assert stats(alice) == {"total": 0, "pending": 0, "completed": 0, "overdue": 0}


def test_counts_total_pending_completed_and_overdue_exactly(alice):
    alice.create(title="pending, past due", due_at=PAST)
    alice.create(title="pending, past due in another offset", due_at="2001-02-03T04:05:06-08:00")
    alice.create(title="pending, due in the future", due_at=FUTURE)
    alice.create(title="pending, no due date")
    alice.create(title="completed, past due", due_at=PAST, completed=True)
    alice.create(title="completed, future due", due_at=FUTURE, completed=True)
    alice.create(title="completed, no due date", completed=True)
    assert stats(alice) == {"total": 7, "pending": 4, "completed": 3, "overdue": 2}


def test_a_task_due_a_minute_ago_is_overdue_and_one_due_in_an_hour_is_not(alice):
    now = datetime.now(UTC)
    alice.create(due_at=(now - timedelta(minutes=1)).isoformat())
    alice.create(due_at=(now + timedelta(hours=1)).isoformat())
    assert stats(alice) == {"total": 2, "pending": 2, "completed": 0, "overdue": 1}


def test_completing_an_overdue_task_stops_it_being_overdue_and_reopening_restores_it(alice):
    task_id = alice.create(due_at=PAST)["id"]
    assert stats(alice) == {"total": 1, "pending": 1, "completed": 0, "overdue": 1}
    assert alice.request("PATCH", f"/{task_id}/complete").status_code == 200
    assert stats(alice) == {"total": 1, "pending": 0, "completed": 1, "overdue": 0}
    assert alice.request("PATCH", f"/{task_id}/complete", json={"completed": False}).status_code == 200
    assert stats(alice) == {"total": 1, "pending": 1, "completed": 0, "overdue": 1}


def test_moving_or_clearing_the_due_date_changes_overdue(alice):
    task_id = alice.create(due_at=PAST)["id"]
    assert alice.request("PATCH", f"/{task_id}", json={"due_at": FUTURE}).status_code == 200
    assert stats(alice)["overdue"] == 0
    assert alice.request("PATCH", f"/{task_id}", json={"due_at": PAST}).status_code == 200
    assert stats(alice)["overdue"] == 1
    assert alice.request("PATCH", f"/{task_id}", json={"due_at": None}).status_code == 200
    assert stats(alice) == {"total": 1, "pending": 1, "completed": 0, "overdue": 0}


def test_deleted_tasks_are_not_counted(alice):
    keep = alice.create(due_at=PAST)["id"]
    gone = alice.create(due_at=PAST)["id"]
    assert alice.request("DELETE", f"/{gone}").status_code == 204
    assert stats(alice) == {"total": 1, "pending": 1, "completed": 0, "overdue": 1}
    assert alice.request("GET", f"/{keep}").status_code == 200


def test_another_users_tasks_are_not_counted(alice, bob):
    alice.create(due_at=PAST)
    alice.create(completed=True)
    for _ in range(3):
        bob.create(due_at=PAST)
    bob.create(completed=True)
    assert stats(alice) == {"total": 2, "pending": 1, "completed": 1, "overdue": 1}
    assert stats(bob) == {"total": 4, "pending": 3, "completed": 1, "overdue": 3}


def test_stats_of_a_user_with_no_tasks_is_zero_even_when_others_have_tasks(alice, bob):
    bob.create(due_at=PAST)
    assert stats(alice) == {"total": 0, "pending": 0, "completed": 0, "overdue": 0}


def test_stats_is_not_mistaken_for_a_task_id(alice):
    task_id = alice.create()["id"]
    assert alice.request("GET", f"/{task_id}").status_code == 200
    assert set(stats(alice)) == {"total", "pending", "completed", "overdue"}


def test_stats_of_another_users_path_is_403(alice, bob):
    response = alice.client.get(f"/api/{bob.user_id}/tasks/stats", headers=alice.headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_stats_without_a_token_is_401(alice):
    response = alice.client.get(f"/api/{alice.user_id}/tasks/stats")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")

"""Recurring tasks through the HTTP app: the fields, completing, the 422s, the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.problems import assert_problem

BERLIN = "Europe/Berlin"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def complete(user, task_id: int, **kwargs):
    response = user.request("PATCH", f"/{task_id}/complete", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_task_without_a_rule_shows_the_defaults(alice):
    task = alice.create()
    assert (task["recurrence"], task["recurrence_basis"], task["timezone"], task["last_completed_at"]) == (
        None,
        "due",
        "UTC",
        None,
    )


def test_create_stores_the_rule_upper_case_with_its_basis_and_zone(alice):
    task = alice.create(
        due_at="2030-01-07T09:00:00+01:00",
        recurrence="freq=weekly;byday=mo",
        recurrence_basis="completion",
        timezone=BERLIN,
    )
    assert (task["recurrence"], task["recurrence_basis"], task["timezone"]) == (
        "FREQ=WEEKLY;BYDAY=MO",
        "completion",
        BERLIN,
    )
    assert task["due_at"] == "2030-01-07T08:00:00.000000Z"
    assert "recurrence_start" not in task
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_completing_moves_the_due_date_to_the_next_occurrence_and_keeps_the_task_open(alice):
    task = alice.create(due_at="2030-01-07T08:00:00Z", recurrence="FREQ=WEEKLY", timezone=BERLIN)
    response = alice.request("PATCH", f"/{task['id']}/complete", json={"completed": True})
    assert response.status_code == 200
    done = response.json()
    assert done["due_at"] == "2030-01-14T08:00:00.000000Z"
    assert (done["completed"], done["completed_at"]) == (False, None)
    assert done["last_completed_at"] is not None
    assert response.headers["etag"] != f'"{task["id"]}.1"'
    assert alice.request("GET", f"/{task['id']}").json() == done


def test_toggling_from_false_moves_it_too_and_the_next_toggle_moves_it_again(alice):
    task = alice.create(due_at="2030-01-31T09:00:00Z", recurrence="FREQ=MONTHLY;BYMONTHDAY=31")
    assert complete(alice, task["id"])["due_at"] == "2030-03-31T09:00:00.000000Z"
    assert complete(alice, task["id"])["due_at"] == "2030-05-31T09:00:00.000000Z"


def test_weekly_nine_oclock_in_berlin_stays_at_nine_local_across_both_transitions(alice):
    task = alice.create(due_at="2026-03-23T09:00:00+01:00", recurrence="FREQ=WEEKLY", timezone=BERLIN)
    assert complete(alice, task["id"])["due_at"] == "2026-03-30T07:00:00.000000Z"  # 09:00 CEST
    alice.request("PATCH", f"/{task['id']}", json={"due_at": "2026-10-19T09:00:00+02:00"})
    assert complete(alice, task["id"])["due_at"] == "2026-10-26T08:00:00.000000Z"  # 09:00 CET


def test_basis_completion_moves_past_now_from_an_overdue_date(alice):
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    task = alice.create(due_at=iso(due), recurrence="FREQ=DAILY", recurrence_basis="completion")
    moved = datetime.fromisoformat(complete(alice, task["id"])["due_at"])
    now = datetime.now(UTC)
    assert now < moved <= now + timedelta(days=1)
    assert (moved - due) % timedelta(days=1) == timedelta(0)


def test_basis_due_moves_one_occurrence_even_when_overdue(alice):
    due = datetime(2020, 5, 1, 9, tzinfo=UTC)
    task = alice.create(due_at=iso(due), recurrence="FREQ=DAILY")
    assert complete(alice, task["id"])["due_at"] == "2020-05-02T09:00:00.000000Z"


def test_a_rule_whose_until_has_passed_completes_normally(alice):
    task = alice.create(due_at="2020-01-01T09:00:00Z", recurrence="FREQ=DAILY;UNTIL=20200101T120000Z")
    done = complete(alice, task["id"], json={"completed": True})
    assert done["completed"] is True and done["completed_at"] is not None
    assert done["due_at"] == "2020-01-01T09:00:00.000000Z"
    assert done["last_completed_at"] == done["completed_at"]


def test_count_counts_from_the_due_date_the_rule_was_set_with(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY;COUNT=3")
    assert complete(alice, task["id"])["due_at"] == "2030-01-02T09:00:00.000000Z"
    # Sending back what was read (same rule, same due date) keeps counting from the start.
    current = alice.request("GET", f"/{task['id']}").json()
    put = alice.request("PUT", f"/{task['id']}", json={k: current[k] for k in ("title", "due_at", "recurrence")})
    assert put.status_code == 200
    assert complete(alice, task["id"])["due_at"] == "2030-01-03T09:00:00.000000Z"
    final = complete(alice, task["id"])
    assert (final["completed"], final["due_at"]) == (True, "2030-01-03T09:00:00.000000Z")
    # Completed now: toggling reopens it like any task.
    assert complete(alice, task["id"])["completed"] is False


def test_moving_only_the_due_date_keeps_the_count(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY;COUNT=2")
    alice.request("PATCH", f"/{task['id']}", json={"due_at": "2030-01-01T10:00:00Z"})
    assert complete(alice, task["id"])["due_at"] == "2030-01-02T09:00:00.000000Z"
    assert complete(alice, task["id"])["completed"] is True


def test_changing_the_rule_starts_it_again_at_the_current_due_date(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY;COUNT=2")
    assert complete(alice, task["id"])["due_at"] == "2030-01-02T09:00:00.000000Z"
    alice.request("PATCH", f"/{task['id']}", json={"recurrence": "FREQ=DAILY;COUNT=3"})
    assert complete(alice, task["id"])["due_at"] == "2030-01-03T09:00:00.000000Z"
    assert complete(alice, task["id"])["due_at"] == "2030-01-04T09:00:00.000000Z"
    assert complete(alice, task["id"])["completed"] is True


def test_put_without_a_rule_goes_back_to_no_recurrence(alice):
    task = alice.create(
        due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY", recurrence_basis="completion", timezone=BERLIN
    )
    replaced = alice.request("PUT", f"/{task['id']}", json={"title": "plain"}).json()
    assert (replaced["recurrence"], replaced["recurrence_basis"], replaced["timezone"]) == (None, "due", "UTC")
    assert complete(alice, task["id"])["completed"] is True


def test_patch_changes_only_the_recurrence_fields_sent(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    patched = alice.request(
        "PATCH", f"/{task['id']}", json={"timezone": BERLIN, "recurrence_basis": "completion"}
    ).json()
    assert (patched["recurrence"], patched["recurrence_basis"], patched["timezone"]) == (
        "FREQ=DAILY",
        "completion",
        BERLIN,
    )
    cleared = alice.request("PATCH", f"/{task['id']}", json={"recurrence": None}).json()
    assert cleared["recurrence"] is None


def test_setting_false_on_a_recurring_task_does_not_move_it(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    done = complete(alice, task["id"], json={"completed": False})
    assert (done["completed"], done["due_at"], done["last_completed_at"]) == (
        False,
        "2030-01-01T09:00:00.000000Z",
        None,
    )


def test_a_plain_task_records_its_last_completion_too(alice):
    task = alice.create()
    done = complete(alice, task["id"])
    assert done["completed"] is True and done["last_completed_at"] == done["completed_at"]
    reopened = complete(alice, task["id"])
    assert (reopened["completed_at"], reopened["last_completed_at"]) == (None, done["last_completed_at"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recurrence": "FREQ=DAILY"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY", "due_at": None}, "recurrence"),
        ({"recurrence": "FREQ=HOURLY", "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;COUNT=2;UNTIL=20300101T000000Z", "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;BYSETPOS=1", "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;COUNT=1000000", "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;INTERVAL=2;INTERVAL=3", "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": "x" * 501, "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"recurrence": 5, "due_at": "2030-01-01T09:00:00Z"}, "recurrence"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"recurrence_basis": "whenever"}, "recurrence_basis"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_invalid_recurrence_input_is_422_on_the_field(alice, body, field, method):
    path = "" if method == "POST" else f"/{alice.create()['id']}"
    problem = assert_problem(alice.request(method, path, json={"title": "t", **body}), 422)
    assert [e["loc"] for e in problem["errors"]] == [["body", field]]


def test_patch_setting_a_rule_on_a_task_without_due_date_is_422_on_recurrence(alice):
    task = alice.create()
    response = alice.request("PATCH", f"/{task['id']}", json={"recurrence": "FREQ=DAILY"})
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {
            "loc": ["body", "recurrence"],
            "msg": "a recurring task needs due_at: its first occurrence",
            "type": "value_error",
        }
    ]
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_patch_removing_the_due_date_of_a_recurring_task_is_422_on_due_at(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    problem = assert_problem(alice.request("PATCH", f"/{task['id']}", json={"due_at": None}), 422)
    assert [e["loc"] for e in problem["errors"]] == [["body", "due_at"]]
    both = alice.request("PATCH", f"/{task['id']}", json={"due_at": None, "recurrence": None})
    assert both.status_code == 200 and both.json()["due_at"] is None


def test_patch_with_an_invalid_rule_is_422_and_changes_nothing(alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    problem = assert_problem(alice.request("PATCH", f"/{task['id']}", json={"recurrence": "FREQ=MINUTELY"}), 422)
    assert [e["loc"] for e in problem["errors"]] == [["body", "recurrence"]]
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_a_stale_if_match_on_a_recurring_completion_is_412_and_changes_nothing(alice):
    created = alice.request("POST", json={"title": "t", "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"})
    task_id, etag = created.json()["id"], created.headers["etag"]
    alice.request("PATCH", f"/{task_id}", json={"title": "edited"})
    before = alice.request("GET", f"/{task_id}").json()
    assert_problem(alice.request("PATCH", f"/{task_id}/complete", headers={"If-Match": etag}), 412)
    assert alice.request("GET", f"/{task_id}").json() == before
    current = alice.request("GET", f"/{task_id}").headers["etag"]
    assert complete(alice, task_id, headers={"If-Match": current})["due_at"] == "2030-01-02T09:00:00.000000Z"


def test_completing_someone_elses_recurring_task_is_404(alice, bob):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    assert_problem(bob.request("PATCH", f"/{task['id']}/complete"), 404)
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_completing_without_a_token_is_401(client, alice):
    task = alice.create(due_at="2030-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    response = client.patch(f"/api/{alice.user_id}/tasks/{task['id']}/complete")
    assert_problem(response, 401)


def test_stats_and_due_filters_follow_the_moved_due_date(alice):
    past = iso(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    task = alice.create(due_at=past, recurrence="FREQ=DAILY", recurrence_basis="completion")
    assert alice.request("GET", "/stats").json()["overdue"] == 1
    moved = complete(alice, task["id"])
    assert alice.request("GET", "/stats").json() == {"total": 1, "pending": 1, "completed": 0, "overdue": 0}
    assert [t["id"] for t in alice.request("GET", params={"due_after": past}).json()] == [task["id"]]
    assert alice.request("GET", params={"due_before": moved["due_at"]}).json() == []


def test_a_keyed_create_records_the_rule_start_too(alice):
    headers = {"Idempotency-Key": "recurring-1"}
    body = {"title": "t", "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY;COUNT=2"}
    created = alice.request("POST", json=body, headers=headers)
    assert created.status_code == 201
    replayed = alice.request("POST", json=body, headers=headers)
    assert replayed.json() == created.json()
    task_id = created.json()["id"]
    assert complete(alice, task_id)["due_at"] == "2030-01-02T09:00:00.000000Z"
    assert complete(alice, task_id)["completed"] is True

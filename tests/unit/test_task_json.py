"""Responses are serialised straight from records; they must say exactly what TaskPublic says."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timedelta, timezone

from shared.models.priority import Priority
from shared.models.task import FIELDS, PUBLIC_FIELDS, TaskPublic, TaskRecord, task_json, tasks_json

PARIS = timezone(timedelta(hours=1))


def _record(**changes: object) -> TaskRecord:
    # Fields added later and not named here are None: serialising is what is under test.
    values: dict[str, object] = dict.fromkeys(FIELDS) | dict(
        id=7,
        user_id="alice",
        title="Buy milk",
        description="two\nlitres",
        completed=True,
        completed_at=datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=PARIS),
        priority=Priority.high,
        due_at=datetime(2030, 1, 3, tzinfo=PARIS),
        tags=["home"],
        version=3,
        created_at=datetime(2030, 1, 1, tzinfo=PARIS),
        updated_at=datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=PARIS),
        position="a0",
        recurrence_basis="due",
        timezone="UTC",
        change_seq=1,
    )
    values.update(changes)
    return TaskRecord(**values)  # type: ignore[arg-type]


def test_a_records_json_is_its_public_representation() -> None:
    record = _record()
    public = TaskPublic.model_validate(record, from_attributes=True).model_dump(mode="json")
    assert json.loads(task_json(record)) == public
    assert (
        list(public)
        == list(PUBLIC_FIELDS)
        == [
            f.name
            for f in fields(TaskRecord)
            if f.name not in {"version", "recurrence_start", "deleted_at", "change_seq"}
        ]
    )


def test_timestamps_are_utc_with_microseconds_always() -> None:
    body = json.loads(task_json(_record(completed_at=None, due_at=None)))
    assert body["created_at"] == "2029-12-31T23:00:00.000000Z"
    assert body["updated_at"] == "2030-01-02T02:04:05.000678Z"
    assert body["completed_at"] is None and body["due_at"] is None


def test_a_list_is_the_records_in_order_without_their_version() -> None:
    records = [_record(id=1), _record(id=2, title="Walk")]
    assert [t["id"] for t in json.loads(tasks_json(records))] == [1, 2]
    assert all("version" not in t for t in json.loads(tasks_json(records)))

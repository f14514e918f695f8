"""Input rules for task bodies and paths, and the shape of every error: exact statuses, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.models.task_input import READ_ONLY_FIELDS
from tests.support.problems import assert_problem


def create_status(alice: Any, **fields: Any) -> tuple[int, Any]:
    response = alice.request("POST", json=fields)
    if response.status_code != 201:
        assert_problem(response, response.status_code)
    return response.status_code, response.json()


@pytest.mark.parametrize("raw", ["  buy milk  ", "\tbuy milk\n", "\u00a0buy milk\u2003"])
def test_title_is_trimmed(alice, raw):
    assert alice.create(title=raw)["title"] == "buy milk"


@pytest.mark.parametrize("title", ["", " ", "   \t\n "])
def test_blank_title_is_422(alice, title):
    assert create_status(alice, title=title)[0] == 422


def test_missing_title_is_422(alice):
    body = assert_problem(alice.request("POST", json={"description": "d"}), 422)
    assert body["errors"][0]["loc"] == ["body", "title"]


@pytest.mark.parametrize(
    ("title", "status"),
    [
        ("t" * 255, 201),
        ("t" * 256, 422),
        ("  " + "t" * 255 + "  ", 201),
        ("\U0001f600" * 255, 201),
        ("\u00e9" * 256, 422),
    ],
)
def test_title_length_limit_is_255_characters_after_trimming(alice, title, status):
    code, body = create_status(alice, title=title)
    assert code == status
    if status == 201:
        assert body["title"] == title.strip()


CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f"]


@pytest.mark.parametrize("char", CONTROL + ["\n", "\t", "\r"])
def test_control_character_inside_title_is_422(alice, char):
    assert create_status(alice, title=f"a{char}b")[0] == 422


@pytest.mark.parametrize("char", CONTROL)
def test_control_character_in_description_is_422(alice, char):
    assert create_status(alice, title="t", description=f"a{char}b")[0] == 422


@pytest.mark.parametrize("char", CONTROL + ["\n", "\t"])
def test_control_character_in_a_tag_is_422(alice, char):
    assert create_status(alice, title="t", tags=[f"a{char}b"])[0] == 422


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_nul_byte_in_an_update_is_422_and_changes_nothing(alice, method):
    task = alice.create(title="t")
    for fields in ({"title": "a\x00b"}, {"title": "t", "description": "\x00"}, {"title": "t", "tags": ["\x00"]}):
        assert_problem(alice.request(method, f"/{task['id']}", json=fields), 422)
    assert alice.request("GET", f"/{task['id']}").json() == task


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "a\ud800b"},
        {"title": "t", "description": "\udfff"},
        {"title": "t", "tags": ["x\ud83d"]},
    ],
    ids=["title", "description", "tag"],
)
def test_a_lone_surrogate_escape_is_422_not_500(alice, fields):
    """`"\\ud800"` is valid JSON syntax but no Unicode character: it cannot be stored as UTF-8."""
    content = json.dumps(fields).encode()  # ensure_ascii: the surrogate travels as a \\u escape
    response = alice.request("POST", content=content, headers={"Content-Type": "application/json"})
    assert_problem(response, 422)
    assert alice.request("GET").json() == []


def test_a_lone_surrogate_in_an_update_is_422_not_500(alice):
    task = alice.create(title="t")
    response = alice.request(
        "PATCH", f"/{task['id']}", content=b'{"title": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422)
    assert alice.request("GET", f"/{task['id']}").json() == task


def test_newlines_and_tabs_are_allowed_in_description(alice):
    description = "line one\nline two\r\n\tindented"
    assert alice.create(title="t", description=description)["description"] == description


@pytest.mark.parametrize(
    ("description", "status"),
    [("d" * 1000, 201), ("d" * 1001, 422), ("\u00e9" * 1000, 201), ("\U0001f600" * 1000, 201)],
)
def test_description_limit_is_1000_characters(alice, description, status):
    code, body = create_status(alice, title="t", description=description)
    assert code == status
    if status == 201:
        assert body["description"] == description


def test_tags_are_trimmed_lowercased_and_deduplicated_in_order(alice):
    assert alice.create(title="t", tags=[" Work ", "work", "HOME", "home ", "Errands"])["tags"] == [
        "work",
        "home",
        "errands",
    ]


def test_twenty_distinct_tags_are_allowed_and_twenty_one_are_422(alice):
    twenty = [f"tag{i}" for i in range(20)]
    assert alice.create(title="t", tags=twenty)["tags"] == twenty
    assert create_status(alice, title="t", tags=[*twenty, "tag20"])[0] == 422


def test_duplicates_that_collapse_to_twenty_tags_are_allowed(alice):
    tags = [f"tag{i}" for i in range(20)] + ["TAG0", " tag1 "]
    assert alice.create(title="t", tags=tags)["tags"] == [f"tag{i}" for i in range(20)]


@pytest.mark.parametrize(
    ("tag", "status"), [("t" * 50, 201), ("t" * 51, 422), (" " + "T" * 50 + " ", 201), ("", 422), ("   ", 422)]
)
def test_tag_length_limit_is_50_characters_after_trimming(alice, tag, status):
    assert create_status(alice, title="t", tags=[tag])[0] == status


@pytest.mark.parametrize("tags", ["work", [1], [None], {"a": 1}])
def test_tags_must_be_an_array_of_strings(alice, tags):
    assert create_status(alice, title="t", tags=tags)[0] == 422


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_an_unknown_field_is_422(alice, method):
    task = alice.create(title="t")
    path = "" if method == "POST" else f"/{task['id']}"
    body = assert_problem(alice.request(method, path, json={"title": "t", "colour": "red"}), 422)
    assert [e["loc"] for e in body["errors"]] == [["body", "colour"]]


def test_an_unknown_field_on_complete_is_422(alice):
    task = alice.create(title="t")
    assert_problem(alice.request("PATCH", f"/{task['id']}/complete", json={"done": True}), 422)
    assert alice.request("GET", f"/{task['id']}").json() == task


# A value for every read-only field: the timestamps (all but two) from long ago.
READ_ONLY = dict.fromkeys(READ_ONLY_FIELDS, "2000-01-01T00:00:00Z") | {"id": 999999999, "user_id": "somebody-else"}


def test_read_only_fields_in_a_create_are_ignored(alice):
    task = alice.create(title="t", **READ_ONLY)
    assert task["id"] != READ_ONLY["id"]
    assert task["user_id"] == alice.user_id
    assert task["completed_at"] is None
    assert task["created_at"] > "2020" and task["updated_at"] > "2020"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_read_only_fields_in_an_update_are_ignored(alice, method):
    task = alice.create(title="t")
    response = alice.request(method, f"/{task['id']}", json={**task, "title": "new", **READ_ONLY})
    assert response.status_code == 200
    body = response.json()
    assert body == {**task, "title": "new", "updated_at": body["updated_at"]}
    assert body["updated_at"] > task["updated_at"]


def test_read_only_fields_with_values_of_any_type_are_ignored(alice):
    task = alice.create(title="t", id="x", user_id=None, created_at=1, updated_at=[], completed_at={})
    assert task["user_id"] == alice.user_id and isinstance(task["id"], int)


@pytest.mark.parametrize("due_at", ["2030-01-01T10:00:00", "2030-01-01", "tomorrow", "2030-13-01T00:00:00Z"])
def test_due_at_without_an_offset_or_not_a_timestamp_is_422(alice, due_at):
    assert create_status(alice, title="t", due_at=due_at)[0] == 422


def test_due_at_as_a_unix_number_is_422_because_it_is_not_rfc_3339(alice):
    assert create_status(alice, title="t", due_at=1893456000)[0] == 422


@pytest.mark.parametrize(
    ("sent", "returned"),
    [
        ("2030-01-01T10:00:00+05:30", "2030-01-01T04:30:00.000000Z"),
        ("2030-01-01T00:30:00-02:00", "2030-01-01T02:30:00.000000Z"),
        ("2030-01-01T10:00:00.123456Z", "2030-01-01T10:00:00.123456Z"),
        ("2030-01-01T10:00:00+00:00", "2030-01-01T10:00:00.000000Z"),
    ],
)
def test_due_at_with_an_offset_is_stored_and_returned_in_utc(alice, sent, returned):
    task = alice.create(title="t", due_at=sent)
    assert task["due_at"] == returned
    assert alice.request("GET", f"/{task['id']}").json()["due_at"] == returned


@pytest.mark.parametrize("priority", ["urgent", "HIGH", "", 1, None])
def test_an_invalid_priority_is_422(alice, priority):
    assert create_status(alice, title="t", priority=priority)[0] == 422


@pytest.mark.parametrize("field", ["title", "completed", "priority", "tags"])
def test_patch_with_null_for_a_required_field_is_422(alice, field):
    task = alice.create(title="t")
    assert_problem(alice.request("PATCH", f"/{task['id']}", json={field: None}), 422)
    assert alice.request("GET", f"/{task['id']}").json() == task

"""Hostile characters and values everywhere (OWASP API8 / API10 style): NUL and other control
characters, lone surrogates, SQL/LIKE metacharacters, out-of-range timestamps. Always 4xx with a
problem body (or a correct 2xx), never a 5xx, and nothing half-written.
"""

from __future__ import annotations

import pytest

from tests.support.problems import assert_4xx_problem, assert_problem

CONTROL = ["\x00", "\x01", "\x08", "\x1b", "\x1f", "\x7f"]


def _json_post(user, raw: bytes, **headers: str):
    return user.request("POST", content=raw, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_in_body_fields_are_422(alice, char) -> None:
    task = alice.create(title="keep")
    for body in (
        {"title": f"a{char}b"},
        {"title": char},
        {"title": "x", "tags": [f"t{char}x"]},
        {"title": "x", f"k{char}": 1},
    ):
        assert_problem(alice.request("POST", json=body), 422)
        assert_problem(alice.request("PUT", f"/{task['id']}", json=body), 422)
    assert_problem(alice.request("PATCH", f"/{task['id']}", json={"title": f"a{char}"}), 422)
    if char not in "\t\n\r":
        assert_problem(alice.request("POST", json={"title": "x", "description": f"d{char}"}), 422)
    assert alice.request("GET").json() == [task]


def test_allowed_whitespace_in_description_round_trips(alice) -> None:
    task = alice.create(title="x", description="line1\nline2\r\n\ttabbed")
    assert task["description"] == "line1\nline2\r\n\ttabbed"


@pytest.mark.parametrize("escaped", [b"\\ud800", b"\\udfff", b"a\\udc00b", b"\\ud83d"])
def test_lone_surrogates_are_rejected_not_500(alice, escaped) -> None:
    """JSON can spell a lone UTF-16 surrogate; it is not encodable as UTF-8 (nor storable)."""
    task = alice.create(title="keep")
    for raw in (
        b'{"title":"' + escaped + b'"}',
        b'{"title":"x","tags":["' + escaped + b'"]}',
        b'{"title":"x","description":"' + escaped + b'"}',
    ):
        assert_4xx_problem(_json_post(alice, raw))
        assert_4xx_problem(_json_post(alice, raw, **{"Idempotency-Key": "surrogate-key"}))
        assert_4xx_problem(
            alice.request("PATCH", f"/{task['id']}", content=raw, headers={"Content-Type": "application/json"})
        )
    assert alice.request("GET").json() == [task]


@pytest.mark.parametrize("value", ["a%00b", "%00", "a%01", "a%1F", "a%7F", "%ED%A0%80", "%FF%FE"])
def test_control_and_invalid_bytes_in_query_parameters_are_never_500(alice, value) -> None:
    """Control characters are 422 (a forged cursor 400); bytes that are not UTF-8 reach the free-text
    filters as replacement characters (no match: 200) and fail every enumerated or typed one."""
    invalid_utf8 = value in ("%ED%A0%80", "%FF%FE")
    for name in ("q", "tag", "sort", "status", "priority", "due_before", "due_after", "cursor", "limit"):
        response = alice.client.get(f"{alice.base}?{name}={value}", headers=alice.headers)
        if name == "cursor":
            assert_problem(response, 400)
        elif name in ("q", "tag") and invalid_utf8:
            assert response.status_code == 200, (name, value, response.text)
            assert response.json() == []
        else:
            assert_problem(response, 422)


@pytest.mark.parametrize("value", ["a%00b", "%00", "a%01"])
def test_control_characters_in_q_and_tag_are_422(alice, value) -> None:
    for name in ("q", "tag"):
        assert_problem(alice.client.get(f"{alice.base}?{name}={value}", headers=alice.headers), 422)


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "a\x01", "a\x1f", "a\x7f", "tab\tkey", "é-non-ascii", "\u2028"])
def test_hostile_idempotency_keys_are_422(alice, key) -> None:
    response = alice.request("POST", json={"title": "x"}, headers={"Idempotency-Key": key.encode("utf-8")})
    assert_problem(response, 422)
    assert alice.request("GET").json() == []


@pytest.mark.parametrize("value", ['"1.1\x00"', "\x00", '"\x01"', "*\x00", 'W/"\x7f"'])
def test_control_characters_in_conditional_headers_are_never_500(alice, value) -> None:
    task = alice.create(title="keep")
    for method, suffix in (("GET", ""), ("PATCH", ""), ("PATCH", "/complete"), ("DELETE", "")):
        for header in ("If-Match", "If-None-Match"):
            response = alice.request(
                method,
                f"/{task['id']}{suffix}",
                json={"title": "t"} if suffix == "" and method == "PATCH" else None,
                headers={header: value},
            )
            assert response.status_code < 500, (method, header, response.text)


@pytest.mark.parametrize("suffix", ["%00", "%00/tasks", "%0A", "%0D%0AX-Injected:%201", "%7F", "%FF"])
def test_control_characters_in_path_user_id_are_4xx(alice, suffix) -> None:
    response = alice.client.get(f"/api/{alice.user_id}{suffix}/tasks", headers=alice.headers)
    assert_4xx_problem(response)
    assert "x-injected" not in response.headers


@pytest.mark.parametrize("task_id", ["1%00", "%00", "1%0A", "1;DROP TABLE tasks", "1' OR '1'='1", "1%20OR%201=1"])
def test_hostile_task_ids_are_4xx(alice, task_id) -> None:
    task = alice.create(title="keep")
    for method in ("GET", "PATCH", "DELETE"):
        response = alice.client.request(
            method, f"{alice.base}/{task_id}", headers=alice.headers, json={} if method == "PATCH" else None
        )
        assert_4xx_problem(response)
    assert alice.request("GET").json() == [task]


def test_sql_and_like_metacharacters_are_data(alice) -> None:
    plain = alice.create(title="plain")
    tricky = alice.create(title="50% off_now \\ 'quoted' \"dq\" ; DROP TABLE tasks; --")
    for q, expected in (
        ("%", [tricky]),
        ("_", [tricky]),
        ("\\", [tricky]),
        ("'", [tricky]),
        ("' OR '1'='1", []),
        ("plain", [plain]),
    ):
        response = alice.request("GET", params={"q": q})
        assert response.status_code == 200
        assert response.json() == expected, q
    assert alice.request("GET", params={"tag": "' OR 1=1 --"}).json() == []
    assert alice.request("GET", f"/{tricky['id']}").json()["title"] == tricky["title"]


@pytest.mark.parametrize(
    ("due_at", "status"),
    [
        ("0001-01-01T00:00:00+14:00", 422),  # before year 1 in UTC
        ("9999-12-31T23:59:59-14:00", 422),  # after year 9999 in UTC
        ("2020-01-01T00:00:00+23:59", 201),  # an offset PostgreSQL cannot store: kept as the UTC instant
        ("2020-02-30T00:00:00Z", 422),
        ("2020-01-01T24:00:00Z", 422),
        ("2020-01-01T00:00:00", 422),  # no offset
        ("not a date", 422),
        (0, 422),
        (1e308, 422),
        (True, 422),
    ],
)
def test_out_of_range_or_malformed_due_dates_are_422(alice, due_at, status) -> None:
    response = alice.request("POST", json={"title": "x", "due_at": due_at})
    if status == 422:
        assert_problem(response, 422)
    else:  # accepted only as the instant it says, in UTC
        assert response.status_code == 201, response.text
        assert response.json()["due_at"] == "2019-12-31T00:01:00.000000Z"


@pytest.mark.parametrize("offset", ["%2B16:00", "-17:55", "%2B23:59", "-23:59"])
@pytest.mark.parametrize("name", ["due_before", "due_after"])
def test_list_filters_with_extreme_offsets_are_not_500(alice, name, offset) -> None:
    response = alice.client.get(f"{alice.base}?{name}=2020-01-06T12:38:57{offset}", headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize("value", ["0", "0.5", "1700000000", "-1"])
@pytest.mark.parametrize("name", ["due_before", "due_after"])
def test_list_filters_take_rfc3339_not_unix_numbers(alice, name, value) -> None:
    assert_problem(alice.request("GET", params={name: value}), 422)


@pytest.mark.parametrize("value", [0, 1700000000, "1700000000"])
def test_due_at_takes_rfc3339_not_unix_numbers(alice, value) -> None:
    assert_problem(alice.request("POST", json={"title": "x", "due_at": value}), 422)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b'{"title":"\xff"}', b"\xc3(", b'{"title":"x"}\x00'])
def test_bodies_that_are_not_utf8_json_are_4xx(alice, raw) -> None:
    response = _json_post(alice, raw)
    assert_4xx_problem(response)

"""Issue 10, "no input reaches a conversion unchecked": every path, query and header parameter of
every operation in the OpenAPI document, fuzzed with generated strings, gets an answer below 500
(a problem+json when it is an error); If-Match compares octet for octet."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.tokens import auth

# Digits Python treats as digits but that are not ASCII (superscripts, other scripts, fullwidth).
UNICODE_DIGITS = "²³¹٣۳߃०১੧൧๑໑༡၁០᠑᧑꘡꣑꤁０𝟘𝟙"
texts = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
    st.text(alphabet=UNICODE_DIGITS + "0123456789.-+ ", min_size=1, max_size=25),
    st.integers(4290, 4400).map(lambda n: "9" * n),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    # RFC 3339-shaped, with any script's digits (`\d` is Unicode) and out-of-range fields.
    st.from_regex(r"\A\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,12})?([Zz]|[+-]\d\d:\d\d)\Z"),
    st.sampled_from(['"1.1"', 'W/"1.1"', "*", '"1.²"', '"1.01"', '""', '"', ",,", "\\", "%00", "%", "0", "-0"]),
)
# Header values go over the wire as bytes: UTF-8 text, as a client would send it (no line breaks or NUL).
header_values = texts.map(lambda t: t.encode("utf-8", "surrogatepass")).filter(
    lambda b: not re.search(rb"[\r\n\x00]", b) and b == b.strip()
)


@pytest.fixture(scope="module")
def http(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def owner(http: TestClient) -> dict[str, Any]:
    user = f"fuzz-{uuid.uuid4().hex[:12]}"
    task = http.post(f"/api/{user}/tasks", json={"title": "fuzzed"}, headers=auth(user)).json()
    return {"user": user, "task_id": task["id"]}


def _parameters(app: Any) -> list[tuple[str, str, str, str]]:
    """(method, path template, where, name) for every parameter the OpenAPI document declares."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                found.append((method.upper(), path, parameter["in"], parameter["name"]))
    return found


def _all_parameters() -> list[tuple[str, str, str, str]]:
    from functions.api.app import create_app

    return _parameters(create_app())


PARAMETERS = _all_parameters()
BODIES = {"POST": {"title": "x"}, "PUT": {"title": "x"}, "PATCH": {"title": "x"}}


def test_every_kind_of_parameter_is_fuzzed() -> None:
    kinds = {where for _, _, where, _ in PARAMETERS}
    assert kinds == {"path", "query", "header"}, kinds


@pytest.mark.parametrize(("method", "path", "where", "name"), PARAMETERS, ids=lambda v: str(v))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_value_of_any_parameter_is_answered_below_500(
    http: TestClient, owner: dict[str, Any], method: str, path: str, where: str, name: str, data: st.DataObject
) -> None:
    # ETag-shaped values name the owner's own task, so that the version part is what gets parsed.
    etag_shaped = texts.map(lambda t: f'"{owner["task_id"]}.{t}"'.encode("utf-8", "surrogatepass"))
    value = data.draw(header_values | etag_shaped if where == "header" else texts, label=name)
    values: dict[str, Any] = {"user_id": owner["user"], "task_id": owner["task_id"]}
    params: dict[str, Any] = {}
    headers: dict[str, Any] = dict(auth(owner["user"]))
    if where == "path":
        values[name] = value
    elif where == "query":
        params[name] = value
    else:
        headers[name] = value
    url = re.sub(r"\{(\w+)\}", lambda m: quote(str(values[m.group(1)]), safe=""), path)
    response = http.request(method, url, params=params, headers=headers, json=BODIES.get(method))
    assert response.status_code < 500, (method, url, params, headers, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text


@pytest.mark.parametrize("digits", [4300, 4301, 5000, 20, 19])
def test_a_task_id_of_any_length_is_404(http: TestClient, owner: dict[str, Any], digits: int) -> None:
    url = f"/api/{owner['user']}/tasks/{'9' * digits}"
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = http.request(method, url, headers=auth(owner["user"]), json=BODIES.get(method))
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    complete = http.patch(url + "/complete", headers=auth(owner["user"]))
    assert complete.status_code == 404


@pytest.mark.parametrize("digit", ["²", "٣", "３", "𝟙", "¹"])
def test_a_unicode_digit_in_a_task_id_names_no_route(http: TestClient, owner: dict[str, Any], digit: str) -> None:
    response = http.get(f"/api/{owner['user']}/tasks/{quote(digit)}", headers=auth(owner["user"]))
    assert response.status_code == 404


def test_if_match_is_strong_and_octet_for_octet(http: TestClient) -> None:
    user = f"etag-{uuid.uuid4().hex[:12]}"
    headers = auth(user)
    task = http.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers).json()
    tid = task["id"]
    url = f"/api/{user}/tasks/{tid}"
    # Version 1 spelled every way but the one the service writes; and version-1 lookalikes.
    for tag in [f'"{tid}.01"', f'"{tid}.²"', f'"{tid}.¹"', f'"{tid}.١"', f'"{tid}.１"', f'W/"{tid}.1"', f'"0{tid}.1"']:
        response = http.patch(url, json={"title": "y"}, headers={**headers, "If-Match": tag.encode()})
        assert response.status_code == 412, (tag, response.text)
    assert http.get(url, headers=headers).json()["title"] == "x"
    ok = http.patch(url, json={"title": "y"}, headers={**headers, "If-Match": f'"x", "{tid}.1"'})
    assert ok.status_code == 200
    assert ok.headers["etag"] == f'"{tid}.2"'


@pytest.mark.parametrize("length", ["²", "١٢", "1" * 5000, "+1", "0x10", "1_0"])
def test_a_content_length_that_is_not_decimal_ascii_is_400(http: TestClient, length: str) -> None:
    user = f"len-{uuid.uuid4().hex[:12]}"
    response = http.post(
        f"/api/{user}/tasks",
        content=b'{"title":"x"}',
        headers={**auth(user), "Content-Type": "application/json", "Content-Length": length.encode()},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
BODY_FIELDS = ["title", "description", "completed", "priority", "due_at", "tags", "id", "user_id", "unknown"]


@pytest.mark.parametrize("route", ["POST /tasks", "PUT /tasks/{id}", "PATCH /tasks/{id}", "PATCH /tasks/{id}/complete"])
@pytest.mark.parametrize("field", BODY_FIELDS)
@settings(max_examples=15, deadline=None)
@given(value=json_values)
def test_any_json_value_of_any_body_field_is_answered_below_500(
    http: TestClient, owner: dict[str, Any], route: str, field: str, value: Any
) -> None:
    method, path = route.split(" ")
    url = f"/api/{owner['user']}" + path.replace("{id}", str(owner["task_id"]))
    body = {"title": "x", field: value} if field != "title" else {field: value}
    if path.endswith("/complete"):
        body = {"completed": value} if field == "completed" else {field: value}
    response = http.request(method, url, json=body, headers=auth(owner["user"]))
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("digits", [4300, 4301, 6000])
def test_a_huge_json_number_in_a_body_is_422(http: TestClient, owner: dict[str, Any], digits: int) -> None:
    url = f"/api/{owner['user']}/tasks"
    body = b'{"title": "x", "priority": ' + b"9" * digits + b"}"
    headers = {**auth(owner["user"]), "Content-Type": "application/json", "Idempotency-Key": f"k{digits}"}
    response = http.post(url, content=body, headers=headers)
    assert response.status_code == 422, response.text

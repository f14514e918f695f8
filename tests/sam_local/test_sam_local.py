"""The task contract through `sam local start-api`, each response compared with the in-process
handler's for the same request, and the runtime's JSON log lines checked in the container's output."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.sam_local import scenario
from tests.sam_local.exchanges import Exchange, Normalizer, in_process, over_http


@pytest.fixture(scope="session")
def runs(http: Any, handler: Any, sam_secret: str) -> dict[str, tuple[list[Exchange], Normalizer]]:
    """The scenario once through sam local and once in-process, each under users of its own."""
    results = {}
    for name, send in (("sam", over_http(http)), ("in-process", in_process(handler))):
        user, other = f"{name}-{uuid.uuid4().hex[:8]}", f"{name}-other-{uuid.uuid4().hex[:8]}"
        exchanges = scenario.run(scenario.Caller(send, user, other, sam_secret))
        results[name] = (exchanges, Normalizer({user: "user", other: "other"}))
    return results


def test_every_step_gives_the_contracts_status_through_sam_local(runs) -> None:
    exchanges, _ = runs["sam"]
    statuses = {e.status for e in exchanges}
    assert {200, 201, 204, 304, 400, 401, 403, 404, 405, 412, 413, 415, 422} <= statuses
    assert len(exchanges) == len(runs["in-process"][0])


def test_every_response_through_sam_local_equals_the_in_process_handlers(runs) -> None:
    sam, sam_names = runs["sam"]
    local, local_names = runs["in-process"]
    differences = []
    for a, b in zip(sam, local, strict=True):
        seen, expected = sam_names.exchange(a), local_names.exchange(b)
        for part in ("status", "headers", "body"):
            if seen[part] != expected[part]:
                differences.append(f"{a.step} {part}:\n  sam local:  {seen[part]}\n  in-process: {expected[part]}")
    assert not differences, "\n".join(differences)


def test_the_401s_carry_a_bearer_challenge(runs) -> None:
    for exchange in runs["sam"][0]:
        if exchange.status == 401:
            assert exchange.headers["www-authenticate"].startswith("Bearer "), exchange.step
            assert exchange.headers["content-type"] == "application/problem+json", exchange.step


def test_the_list_pages_are_linked_and_cover_every_task_once(runs) -> None:
    pages = [e for e in runs["sam"][0] if e.step.startswith("list page ")]
    assert [("link" in p.headers) for p in pages] == [True, True, False]
    ids = [task["id"] for page in pages for task in page.json()]
    assert len(ids) == len(set(ids)) == 5  # create, keyed create (replayed, not repeated), three more


def test_the_idempotent_replay_is_the_first_response(runs) -> None:
    by_step = {e.step: e for e in runs["sam"][0]}
    first, replay = by_step["keyed create"], by_step["keyed replay"]
    assert replay.body == first.body
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["etag"] == first.headers["etag"]


def test_bodies_through_sam_local_are_not_base64_and_have_their_length(runs) -> None:
    for exchange in runs["sam"][0]:
        if exchange.status in (204, 304):
            assert exchange.body == b"", exchange.step
            continue
        assert int(exchange.headers["content-length"]) == len(exchange.body), exchange.step
        media = exchange.headers["content-type"].split(";")[0]
        assert media in ("application/json", "application/problem+json"), exchange.step
        json.loads(exchange.body)


def test_the_runtime_logs_one_json_access_record_per_request_beside_its_request_id(runs, sam_local) -> None:
    records = []
    for line in sam_local["function_log"].read_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))  # every JSON line the runtime writes parses
    access = {}
    for record in records:
        if record.get("logger") == "tasks_api.access":
            assert record["requestId"] not in access, record
            access[record["requestId"]] = record
    for exchange in runs["sam"][0]:
        request_id = exchange.headers["x-request-id"]
        record = access[request_id]
        assert record["request_id"] == request_id
        assert record["method"] == exchange.method
        assert record["status"] == exchange.status
        assert record["level"] == "INFO"
        assert isinstance(record["duration_ms"], int | float)
        assert not record["message"].lstrip().startswith("{"), record["message"]
        if exchange.path.startswith("/api/"):
            assert exchange.path.split("/")[2] not in json.dumps(record), record  # the template, not the user

"""EMF metrics from the access-log path: valid per the specification, aggregated per route, and
written only as often as the window, the 100-value limit or the keep-warm call says."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.api import metrics
from tests.observability.emf_spec import emf_problems
from tests.support.tokens import auth

UNREACHABLE_URL = "postgresql://postgres:pw@127.0.0.1:1/x"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[list[str]]:
    """Installs a prod recorder that writes into the returned list."""
    written: list[str] = []
    monkeypatch.setattr(metrics, "_recorder", metrics.Recorder(stage="prod", write=written.append, clock=clock))
    monkeypatch.setattr(metrics, "_configured", True)
    yield written


def documents(lines: list[str]) -> list[dict[str, Any]]:
    for line in lines:
        assert emf_problems(line) == [], line
    return [json.loads(line) for line in lines]


def by_route(lines: list[str]) -> dict[str, dict[str, Any]]:
    """The route documents merged per route: counts summed, value arrays concatenated."""
    merged: dict[str, dict[str, Any]] = {}
    for document in documents(lines):
        if "Route" not in document:
            continue
        entry = merged.setdefault(document["Route"], {"Requests": 0, "Errors5xx": 0, "Latency": [], "DatabaseTime": []})
        entry["Requests"] += document["Requests"]
        entry["Errors5xx"] += document["Errors5xx"]
        entry["Latency"] += document["Latency"]
        entry["DatabaseTime"] += document["DatabaseTime"]
    return merged


VALID = {
    "_aws": {
        "Timestamp": 1764633600000,
        "CloudWatchMetrics": [
            {
                "Namespace": "TasksApi",
                "Dimensions": [["Stage", "Route"], ["Stage"]],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Requests", "Unit": "Count"}],
            }
        ],
    },
    "Stage": "prod",
    "Route": "GET /health",
    "Latency": [1.5, 2.0],
    "Requests": 2,
}


def _mutated(change: Any) -> str:
    document = copy.deepcopy(VALID)
    change(document)
    return json.dumps(document)


def _directive(document: dict[str, Any]) -> dict[str, Any]:
    directive: dict[str, Any] = document["_aws"]["CloudWatchMetrics"][0]
    return directive


def _many_metrics(d: dict[str, Any]) -> None:
    _directive(d)["Metrics"] = [{"Name": f"m{i}", "Unit": "Count"} for i in range(101)]
    d.update({f"m{i}": 1 for i in range(101)})


def _many_dimensions(d: dict[str, Any]) -> None:
    _directive(d)["Dimensions"] = [[f"d{i}" for i in range(31)]]
    d.update({f"d{i}": "x" for i in range(31)})


INVALID = {
    "101 metrics in a directive": _many_metrics,
    "31 dimensions in a set": _many_dimensions,
    "a unit CloudWatch does not know": lambda d: _directive(d)["Metrics"][0].update(Unit="ms"),
    "a storage resolution other than 1 or 60": lambda d: _directive(d)["Metrics"][0].update(StorageResolution=5),
    "a metric value that is a string": lambda d: d.update(Requests="2"),
    "a metric value that is a boolean": lambda d: d.update(Requests=True),
    "101 values in an array": lambda d: d.update(Latency=[1.0] * 101),
    "a metric without its root member": lambda d: d.pop("Latency"),
    "a dimension without its root member": lambda d: d.pop("Route"),
    "a dimension that is not a string": lambda d: d.update(Stage=1),
    "no timestamp": lambda d: d["_aws"].pop("Timestamp"),
    "a timestamp that is not an integer": lambda d: d["_aws"].update(Timestamp="now"),
    "an unknown member in the metadata": lambda d: d["_aws"].update(Extra=1),
    "an empty namespace": lambda d: _directive(d).update(Namespace=""),
    "no directive": lambda d: d["_aws"].update(CloudWatchMetrics=[]),
}


def test_the_validator_accepts_a_valid_document() -> None:
    assert emf_problems(json.dumps(VALID)) == []


@pytest.mark.parametrize("case", sorted(INVALID))
def test_the_validator_refuses_what_the_specification_forbids(case: str) -> None:
    assert emf_problems(_mutated(INVALID[case])) != []


def test_requests_through_the_app_become_valid_emf_per_route(client, new_user, lines) -> None:
    user = new_user()
    headers = auth(user)
    base = f"/api/{user}/tasks"
    created = [client.post(base, json={"title": f"task {i}"}, headers=headers) for i in range(3)]
    assert [r.status_code for r in created] == [201, 201, 201]
    assert client.get(base, headers=headers).status_code == 200
    assert client.get(f"{base}/{created[0].json()['id']}", headers=headers).status_code == 200
    assert client.get(f"{base}/999999999", headers=headers).status_code == 404
    assert client.get("/health").status_code == 200
    assert client.get(base).status_code == 401
    metrics.flush()

    routes = by_route(lines)
    assert {name: entry["Requests"] for name, entry in routes.items()} == {
        "POST /api/{user_id}/tasks": 3,
        "GET /api/{user_id}/tasks": 1,
        "GET /api/{user_id}/tasks/{task_id:int}": 2,
        "GET /health": 1,
        metrics.NO_ROUTE: 1,
    }
    for entry in routes.values():
        assert entry["Errors5xx"] == 0
        assert len(entry["Latency"]) == len(entry["DatabaseTime"]) == entry["Requests"]
        assert all(0 < latency < 10_000 for latency in entry["Latency"])
    assert all(d > 0 for d in routes["POST /api/{user_id}/tasks"]["DatabaseTime"])
    assert routes["GET /health"]["DatabaseTime"] == [0.0]
    assert routes[metrics.NO_ROUTE]["DatabaseTime"] == [0.0]
    cold = [d for d in documents(lines) if "ColdStart" in d]
    assert [d["ColdStart"] for d in cold] == [1]
    for document in documents(lines):
        assert document["Stage"] == "prod"
        assert _directive(document)["Namespace"] == metrics.NAMESPACE
        assert user not in json.dumps(document)


def test_an_unavailable_database_counts_as_a_5xx_of_its_route(client, configure, new_user, lines) -> None:
    user = new_user()
    configure(DATABASE_URL=UNREACHABLE_URL, DB_CONNECT_TIMEOUT_SECONDS="1")
    assert client.get(f"/api/{user}/tasks", headers=auth(user)).status_code == 503
    metrics.flush()
    assert by_route(lines)["GET /api/{user_id}/tasks"]["Errors5xx"] == 1


def test_a_quiet_container_flushes_every_request_and_a_busy_one_once_a_window(lines, clock) -> None:
    recorder = metrics.get_recorder()
    assert recorder is not None
    recorder.record(route="GET /health", status=200, duration_ms=1.0, database_ms=0.0)
    assert len(lines) == 2  # the cold start and the first request, at once
    for _ in range(3):
        clock.now += 10
        recorder.record(route="GET /health", status=200, duration_ms=2.0, database_ms=0.0)
    assert len(lines) == 2
    clock.now += metrics.WINDOW_SECONDS
    recorder.record(route="GET /health", status=503, duration_ms=3.0, database_ms=0.5)
    assert len(lines) == 3
    last = json.loads(lines[-1])
    assert (last["Requests"], last["Errors5xx"], last["Latency"]) == (4, 1, [2.0, 2.0, 2.0, 3.0])
    clock.now += metrics.WINDOW_SECONDS + 1
    recorder.record(route="GET /health", status=200, duration_ms=1.0, database_ms=0.0)
    assert len(lines) == 4 and json.loads(lines[-1])["Requests"] == 1
    assert len(documents(lines)) == 4


def test_a_route_is_flushed_when_it_holds_100_values(lines) -> None:
    recorder = metrics.get_recorder()
    assert recorder is not None
    recorder.record(route="GET /health", status=200, duration_ms=1.0, database_ms=0.0)
    for _ in range(250):
        recorder.record(route="PATCH /api/{user_id}/tasks/{task_id}", status=200, duration_ms=4.0, database_ms=1.0)
    recorder.flush()
    routes = [d for d in documents(lines) if d.get("Route") == "PATCH /api/{user_id}/tasks/{task_id}"]
    assert [len(d["Latency"]) for d in routes] == [100, 100, 50]
    assert sum(d["Requests"] for d in routes) == 250


def test_a_flush_with_nothing_recorded_writes_nothing_but_the_cold_start(lines) -> None:
    metrics.flush()
    metrics.flush()
    assert [json.loads(line).get("ColdStart") for line in lines] == [1]


def test_metrics_are_off_locally_and_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_configured", False)
    monkeypatch.setattr(metrics, "_recorder", None)
    assert metrics.get_recorder() is None


def test_deployed_stages_write_emf_lines_to_stdout(monkeypatch, configure, capsys) -> None:
    configure(APP_ENV="prod", AUTH_JWT_SECRET="p" * 40)
    monkeypatch.setattr(metrics, "_configured", False)
    monkeypatch.setattr(metrics, "_recorder", None)
    recorder = metrics.get_recorder()
    assert recorder is not None and recorder.stage == "prod"
    recorder.record(route="GET /health", status=200, duration_ms=1.0, database_ms=0.0)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert [emf_problems(line) for line in out] == [[], []]

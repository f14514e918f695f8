"""results.json -> results.md, the sections added by issue 16: latency at a database distance and
the HTTP server path."""

from __future__ import annotations

from typing import Any


def _met(met: bool) -> str:
    return "met" if met else "MISSED"


def latency(results: dict[str, Any], add: Any) -> None:
    lat = results["latency"]
    delays = lat["delays_ms"]
    add("")
    add(f"## Latency at a database distance: {_met(lat['met'])} (slope target <= {lat['target']} per route)")
    add("")
    add(
        "The counting proxy holds everything PostgreSQL sends for D ms (a database D ms away). Per route, "
        f"{lat['requests']} rounds of one request per D, sent back to back, through the in-process handler; "
        "the floor is plain psycopg2 through the same proxy sending the SQL the app sent. Slope = added "
        "latency / D (round trips waited for): the median over rounds of each round's fit; the floor's "
        "slope (1 round trip) shows the machine's noise."
    )
    add("")
    head = " | ".join(f"p50 / p95 at {d} ms" for d in delays)
    add(f"| route | round trips | {head} | slope | floor slope | slope of p50s | |")
    add("|---|---:|" + "---:|" * len(delays) + "---:|---:|---:|---|")
    missing = []
    for name, row in lat["routes"].items():
        if not row["measured"]:
            missing.append(f"{name} ({row['reason']})")
            continue
        cells = " | ".join(
            f"{row['by_delay'][str(d)]['p50_ms']:.2f} / {row['by_delay'][str(d)]['p95_ms']:.2f}" for d in delays
        )
        add(
            f"| {name} | {row['round_trips_at_0']} | {cells} | {row['slope']:.2f} | {row['floor_slope']:.2f} "
            f"| {row['slope_of_p50s']:.2f} | {_met(row['met'])} |"
        )
    if missing:
        add("")
        add("Not measured (the route is not served yet, or its setup failed): " + "; ".join(missing) + ".")


def http_path(results: dict[str, Any], add: Any) -> None:
    http = results.get("http")
    if not http:
        return
    add("")
    add(
        f"## HTTP server path: {_met(http['met'])} (server CPU per request <= {http['target']}x uvicorn serving a "
        "bare hello app)"
    )
    add("")
    add(
        f"uvicorn as `make run` serves it ({http['options']}); one keep-alive client sends "
        f"{http['requests']} requests per route, in rounds alternating with the floor; CPU is the server "
        "process's own (every thread, from /proc/PID/task/*/schedstat)."
    )
    add("")
    add("| route | app CPU ms/req | floor CPU ms/req | x floor | app wall ms/req | |")
    add("|---|---:|---:|---:|---:|---|")
    for name, row in http["routes"].items():
        add(
            f"| {name} | {row['cpu_ms']:.3f} | {row['floor_cpu_ms']:.3f} | {row['ratio']:.2f} "
            f"| {row['wall_ms']:.2f} | {_met(row['met'])} |"
        )
    if http.get("variants"):
        add("")
        add(
            "Server options compared on GET task (CPU ms per request, same run): "
            + "; ".join(f"{name} {ms:.3f}" for name, ms in http["variants"].items())
        )

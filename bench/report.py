"""results.json -> results.md: the tables `make bench` prints."""

from __future__ import annotations

from typing import Any

from bench.report_distance import http_path, latency

COLD_LABELS = {
    "floor": "floor: bare libraries + hello route",
    "floor_db": "floor + psycopg2 connect + SELECT 1 (info)",
    "app": "app: GET task list, valid token",
    "app_nobytecode": "app without shipped .pyc",
}


def _met(met: bool) -> str:
    return "met" if met else "MISSED"


def _shares(items: list[tuple[str, float]], count: int, digits: int = 0) -> str:
    return "; ".join(f"{name} {share:.{digits}%}" for name, share in items[:count])


def _cold(results: dict[str, Any], add: Any) -> None:
    cold = results["cold_start"]
    v = cold["variants"]
    python = results["versions"]["artifact_python"]
    add(f"## Cold start: {_met(cold['met'])} (app {cold['ratio']:.2f}x floor, target <= {cold['target']}x)")
    add("")
    add(f"Median of {v['app']['runs']} fresh `python{python} -I -S` processes each, from spawn to the first response.")
    add("")
    add("| variant | wall to first response (ms) | import (ms) | first request (ms) | x floor |")
    add("|---|---:|---:|---:|---:|")
    for name, label in COLD_LABELS.items():
        row = v[name]
        add(
            f"| {label} | {row['wall_median_ms']:.0f} | {row['import_median_ms']:.0f} "
            f"| {row['first_request_median_ms']:.1f} | {row['ratio_to_floor']:.2f} |"
        )
    add("")
    bare, app = v["app_nobytecode"]["wall_median_ms"], v["app"]["wall_median_ms"]
    add(f"Shipped bytecode saves {bare - app:.0f} ms per cold start (without it: {bare / app:.2f}x slower).")
    add(f"Floor: {cold['floor_method']}.")
    if cold["met"]:
        return
    it = cold["importtime"]
    add("")
    add(
        f"`-X importtime`, one run each (self times sum to {it['app_total_ms']} ms app, {it['floor_total_ms']} ms "
        "floor). Top contributors beyond the floor: app modules' own code, and imports made by app code of "
        "modules the floor never loads (cumulative):"
    )
    add("")
    add("| module | ms |")
    add("|---|---:|")
    for name, ms in it["top_contributors_ms"][:12]:
        add(f"| {name} | {ms} |")
    add("")
    add("Extra self time by top-level package, app minus floor (ms): ")
    add(", ".join(f"{p} {ms}" for p, ms in it["extra_self_ms_by_package"][:10]))
    first = cold["first_request_profile"]
    profile = first["profile"]
    add("")
    add(
        f"First request after import, pyinstrument (python {results['versions']['venv_python']}, repo code, "
        f"threadpool work inlined): {first['first_request_ms_profiled']:.1f} ms profiled, "
        f"{first['second_request_ms']:.1f} ms for the second request."
    )
    add("")
    add(f"- by package: {_shares(profile['by_package'], 8)}")
    add(f"- top self frames: {_shares(profile['top_self'], 8, 1)}")
    add(f"- app frames, cumulative: {_shares(profile['app_frames_cumulative'], 8)}")
    add(f"- library calls made by app code, cumulative: {_shares(profile['called_from_app_cumulative'], 8)}")


def _round_trips(results: dict[str, Any], add: Any) -> None:
    rt = results["round_trips"]
    add("")
    add(f"## Round trips per request: {_met(rt['met'])}")
    add("")
    add(
        "ReadyForQuery messages counted by a TCP proxy in front of PostgreSQL, per request of a warm "
        "handler, after a warm-up request of the same route (maximum of 3 requests)."
    )
    add("")
    add("| route | round trips | target | messages sent | |")
    add("|---|---:|---:|---:|---|")
    for name, row in rt["routes"].items():
        add(f"| {name} | {row['round_trips']} | {row['target']} | {row['messages']} | {_met(row['met'])} |")
    first = rt["first_request"]
    add("")
    add(
        f"First request of a new process: {_met(first['met'])}: {first['round_trips']} ReadyForQuery messages "
        f"(target {first['target']}: one ends the connection's startup, one answers the statement), "
        f"{first['statements']} statements sent, {first['connections_opened']} connection opened."
    )


def _warm(results: dict[str, Any], add: Any) -> None:
    warm = results["warm"]
    add("")
    add(f"## Warm cost: {_met(warm['met'])} (target >= {warm['target']}x the psycopg2 floor per route)")
    add("")
    add(
        "Requests/s through `handler(event, ctx)` in-process vs plain psycopg2 (autocommit) sending the exact "
        "SQL the app sent, captured by the proxy; medians of alternating rounds."
    )
    add("")
    add(
        "Second floor: FastAPI + Mangum, one catch-all route of the same method called with the same events, "
        "reading the body and sending the same SQL through psycopg2 (bench/framework_floor.py): x framework "
        "is what the app costs beyond the framework."
    )
    add("")
    add(
        "| route | app req/s | app ms/req | psycopg2 req/s | psycopg2 ms/req | x floor "
        "| framework req/s | x framework | |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, row in warm["routes"].items():
        add(
            f"| {name} | {row['app_rps']:.0f} | {1000 / row['app_rps']:.2f} | {row['floor_rps']:.0f} "
            f"| {1000 / row['floor_rps']:.3f} | {row['ratio']:.3f} | {row.get('framework_floor_rps', 0):.0f} "
            f"| {row.get('ratio_to_framework_floor', 0):.3f} | {_met(row['met'])} |"
        )
    reference = warm.get("framework_reference")
    if reference:
        add("")
        add(
            f"Context, not a floor: Mangum + FastAPI alone (no auth, no database) serve a hello route at "
            f"{reference['async_rps']:.0f} req/s as `async def` ({1000 / reference['async_rps']:.2f} ms) and "
            f"{reference['sync_rps']:.0f} req/s as `def` in the threadpool ({1000 / reference['sync_rps']:.2f} ms)."
        )
    if not warm.get("profiles"):
        return
    add("")
    add(
        "pyinstrument on the routes below target (shares of sampled wall time). FastAPI runs sync "
        "dependencies and endpoints in a threadpool the sampler cannot see, so the breakdown comes "
        "from a run with that work inlined on the loop thread; 'as run' shows the loop thread waiting."
    )
    for name, prof in warm["profiles"].items():
        inlined, unprofiled = prof["threads_inlined"], prof["unprofiled_rps"]
        hop_ms = 1000 / unprofiled["as_run"] - 1000 / unprofiled["threads_inlined"]
        add("")
        add(
            f"- **{name}**: {prof['thread_hops_per_request']} threadpool hops per request; without the profiler "
            f"{unprofiled['as_run']:.0f} req/s as run vs {unprofiled['threads_inlined']:.0f} req/s with them "
            f"inlined ({hop_ms:.2f} ms per request)."
        )
        add(f"  - by package: {_shares(inlined['by_package'], 8)}")
        add(f"  - top self frames: {_shares(inlined['top_self'], 8, 1)}")
        add(f"  - app frames, cumulative: {_shares(inlined['app_frames_cumulative'], 6)}")
        add(f"  - library calls made by app code, cumulative: {_shares(inlined['called_from_app_cumulative'], 6)}")
        add(f"  - as run, top self frames: {_shares(prof['as_run']['top_self'], 5, 1)}")


def _scale(results: dict[str, Any], add: Any) -> None:
    scale = results["scale"]
    add("")
    add(f"## Scale: {_met(scale['met'])} (1M-row / 1k-row list latency {scale['ratio']:.2f}x, target <= 1.2x)")
    add("")
    add(f"First page (limit 50) for one user with 100 tasks, through the handler; {scale['items_per_page']} items.")
    add("")
    add("| tasks table | users | handler median ms | p90 ms | SQL alone median ms | plan (top nodes) |")
    add("|---|---:|---:|---:|---:|---|")
    for row in scale["databases"].values():
        plan_nodes = [row["plan"][0]] + [line for line in row["plan"][1:] if "->" in line][:1]
        nodes = " > ".join(line.strip().removeprefix("-> ").split("  (")[0].strip() for line in plan_nodes)
        add(
            f"| {row['rows']:,} | {row['users']:,} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} "
            f"| {row['sql_median_ms']:.3f} | {nodes} |"
        )
    add("")
    add(f"1M / 1k: handler {scale['ratio']:.2f}x, SQL alone {scale['sql_ratio']:.2f}x.")


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    machine = results["machine"]
    add(f"# Tasks API benchmark ({'quick' if results['quick'] else 'full'} run, {results['finished_at']})")
    add("")
    add(
        f"{machine['cpus']} CPUs shared with other work (load average {machine['loadavg_start'][0]} at start, "
        f"{machine['loadavg_end'][0]} at end): every figure is a ratio to a floor measured in the same run, "
        f"with absolute medians beside it. Revision {results['git_revision']}"
        + (
            f" plus uncommitted changes to {', '.join(results['uncommitted_app_changes'])}."
            if results.get("uncommitted_app_changes")
            else "."
        )
    )
    add("")
    _cold(results, add)
    _round_trips(results, add)
    latency(results, add)
    http_path(results, add)
    _warm(results, add)
    _scale(results, add)
    memory = results["memory"]
    add("")
    add("## Memory")
    add("")
    add(
        f"Peak RSS (ru_maxrss) of the warm handler process after the warm-cost loop: "
        f"{memory['maxrss_mb_after_warm_loop']:.1f} MB ({memory['maxrss_mb_after_round_trips']:.1f} MB after its "
        f"first requests; python {results['versions']['venv_python']}, repo code, the venv's libraries)."
    )
    add("")
    add("Phase durations (s): " + ", ".join(f"{k} {v}" for k, v in results["timings_s"].items()))
    return "\n".join(lines) + "\n"

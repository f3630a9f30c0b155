"""`python -m bench [--quick] [--json FILE] [--counts-only] [--rows N] [--explain FILE] [--processes SVC=N]`:
baselines and scenarios at concurrency 1, 8 and 32, with what each request costs (RPCs, statements,
transactions, commits, publishes); optionally on grown data, or with a service on several processes."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import counts, plans, rows
from bench import stack as stacks
from bench.cpu import CpuMeter
from bench.load import run_in_process
from bench.profile import Profiler
from services.cli.parser import service_processes

CONCURRENCY = (1, 8, 32)


def plan(s: stacks.Stack, connections: int = 1) -> tuple[dict, dict]:
    d, a = s.data, s.addresses
    booking = {"guest_ids": d["guest_ids"], "departures": d["departures"]}
    baselines = {
        "grpc_echo": ("bench.scenarios:grpc_echo", {"address": s.echo_address}),
        "pg_txn": ("bench.scenarios:pg_txn", {"dsn": s.reservations_dsn, **booking}),
    }
    scenarios = {
        "get_reservation": (
            "bench.scenarios:get_reservation",
            {"address": a["reservations"], "reservation_ids": d["reservation_ids"], "connections": connections},
        ),
        "search_reservations": (
            "bench.scenarios:search_reservations",
            {"address": a["reservations"], "guest_ids": d["guest_ids"]},
        ),
        "list_partner_bookings": (
            "bench.scenarios:list_partner_bookings",
            {"address": a["partner-integrations"], "api_key": d["api_key"]},
        ),
        "create_reservation": ("bench.scenarios:create_reservation", {"address": a["reservations"], **booking}),
        "partner_create_booking": (
            "bench.scenarios:partner_create_booking",
            {"address": a["partner-integrations"], "api_key": d["api_key"], **booking},
        ),
        "partner_create_booking_rest": (
            "bench.scenarios:partner_create_booking_rest",
            {"base_url": s.gateway_url, "api_key": d["api_key"], **booking},
        ),
        "checkout": ("bench.scenarios:checkout", {"address": a["checkout"], "guest_ids": d["guest_ids"]}),
        "create_booking": ("bench.scenarios:create_booking", {"address": a["bookings"], "bookings": d["bookings"]}),
    }
    return baselines, scenarios


def measure(
    targets: dict,
    seconds: float,
    warmup_s: float,
    meter: CpuMeter,
    profiler: Profiler | None = None,
    stack: stacks.Stack | None = None,
) -> dict:
    """Each target at each concurrency; with `stack`, also what a request cost (`per_request`)."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    read = counts.from_endpoints(stack.metrics_urls) if stack else None
    for name, (target, args) in targets.items():
        results[name] = {}
        for c in CONCURRENCY:
            recorders = (
                profiler.start(f"{name}-c{c}", warmup_s + seconds + 2) if profiler and c == CONCURRENCY[-1] else []
            )
            tally: counts.Tally = asyncio.run(read()) if read else {}
            before, busy, began = meter.snapshot(), meter.machine_busy_s(), time.monotonic()
            result = run_in_process(target, args, c, seconds, warmup_s)
            Profiler.finish(recorders)
            after, wall_s = meter.snapshot(), time.monotonic() - began
            cpu = meter.per_request_ms(before, after, result.calls)
            cpu["load"] = round(1000 * result.cpu_s / result.calls, 3) if result.calls else 0.0
            cores = {**meter.cores(before, after, wall_s), "load": round(result.cpu_s / wall_s, 3)}
            cores["machine"] = round((meter.machine_busy_s() - busy) / wall_s, 3)
            results[name][f"c{c}"] = {**result.summary(), "cpu_ms_per_request": cpu, "cores_busy": cores}
            if read and stack:
                asyncio.run(counts.drained(stack.database_urls))
                spent = counts.per_request(tally, asyncio.run(read()), result.calls)
                results[name][f"c{c}"]["per_request"] = spent
            print(f"  {name:<28} c{c:<3} {results[name][f'c{c}']}", file=sys.stderr, flush=True)
    return results


def add_ratios(report: dict) -> None:
    echo, pg = report["baselines"]["grpc_echo"], report["baselines"]["pg_txn"]
    for name, by_c in report["scenarios"].items():
        for c, row in by_c.items():
            row["ratio_to_echo"] = round(row["qps"] / echo[c]["qps"], 3) if echo[c]["qps"] else 0.0
            if name == "create_reservation":
                row["ratio_to_pg_txn"] = round(row["qps"] / pg[c]["qps"], 3) if pg[c]["qps"] else 0.0


def cpu_table(report: dict, c: str = "c32") -> str:
    """Where a request's CPU goes at concurrency `c`: milliseconds per request, by process."""
    rows = {**report["baselines"], **report["scenarios"]}
    groups = sorted({g for by_c in rows.values() for g in by_c[c].get("cpu_ms_per_request", {})})
    lines = [f"CPU ms per request at {c}: " + " ".join(f"{g[:12]:>12}" for g in groups) + f" {'total':>8}"]
    for name, by_c in rows.items():
        cpu = by_c[c].get("cpu_ms_per_request", {})
        lines.append(
            f"{name:<28}" + " ".join(f"{cpu.get(g, 0):>12.3f}" for g in groups) + f" {sum(cpu.values()):>8.3f}"
        )
    return "\n".join(lines)


def counts_table(by_name: dict[str, dict[str, float]]) -> str:
    """What one request costs, by scenario (the units of bench/counts.py)."""
    units = ("rpcs", "statements", "transactions", "commits", "publishes")
    lines = [f"{'per request':<28}" + "".join(f"{u:>13}" for u in units)]
    for name, spent in by_name.items():
        lines.append(f"{name:<28}" + "".join(f"{spent.get(u, 0):>13}" for u in units))
    return "\n".join(lines)


async def count_only(s: stacks.Stack, scenarios: dict, requests: int) -> dict[str, dict[str, float]]:
    """Each scenario's requests one after another, counted; no timing."""
    found = {}
    for name, (target, args) in scenarios.items():
        module, _, factory = target.partition(":")
        call, close = await getattr(importlib.import_module(module), factory)(**args)
        try:
            found[name] = await counts.count(call, requests, counts.from_endpoints(s.metrics_urls), s.database_urls)
        finally:
            await close()
    return found


def cores_table(report: dict, c: str = "c32") -> str:
    """Cores kept busy on average during each run at `c`, by process, and the whole machine's."""
    rows = {**report["baselines"], **report["scenarios"]}
    groups = sorted({g for by_c in rows.values() for g in by_c[c].get("cores_busy", {})} - {"machine"})
    lines = [f"cores busy at {c}: " + " ".join(f"{g[:14]:>14}" for g in groups) + f" {'machine':>8}"]
    for name, by_c in rows.items():
        busy = by_c[c].get("cores_busy", {})
        lines.append(f"{name:<28}" + " ".join(f"{busy.get(g, 0):>14.3f}" for g in groups) + f" {busy['machine']:>8.3f}")
    return "\n".join(lines)


def table(report: dict) -> str:
    lines = [
        f"{'name':<28} {'conc':>4} {'requests':>8} {'errors':>6} {'qps':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'÷echo':>6} {'÷pg':>6}"
    ]
    for kind in ("baselines", "scenarios"):
        for name, by_c in report[kind].items():
            for c, r in by_c.items():
                lines.append(
                    f"{name:<28} {c:>4} {r['requests']:>8} {r['errors']:>6} {r['qps']:>8} {r['p50_ms']:>8} "
                    f"{r['p90_ms']:>8} "
                    f"{r['p99_ms']:>8} {r.get('ratio_to_echo', ''):>6} {r.get('ratio_to_pg_txn', ''):>6}"
                )
    return "\n".join(lines)


def grow(s: stacks.Stack, args: argparse.Namespace) -> None:
    """--rows / --bookings: the data loaded by COPY; --explain: the hot reads' plans on it."""
    d = s.data
    trips = [trip for trip, _ in d["departures"]]
    if args.rows:
        print(f"loading {args.rows:,} reservations ...", file=sys.stderr, flush=True)
        d["reservation_ids"] = asyncio.run(rows.load_reservations(s.reservations_dsn, args.rows, d["guest_ids"], trips))
    if bookings := args.bookings if args.bookings is not None else (100_000 if args.rows else 0):
        print(f"loading {bookings:,} partner bookings ...", file=sys.stderr, flush=True)
        asyncio.run(rows.load_partner_bookings(s.partners_dsn, bookings, d["partner_id"], d["guest_ids"], trips))
    if args.explain:
        args.explain.write_text(asyncio.run(explained(s)))


async def explained(s: stacks.Stack) -> str:
    d = s.data
    mid = d["reservation_ids"][len(d["reservation_ids"]) // 2]
    queries = await plans.reservation_queries(mid, d["guest_ids"][0], d["departures"][0][0])
    partner = await plans.partner_queries(d["partner_id"])
    found = {**await plans.explain(s.reservations_dsn, queries), **await plans.explain(s.partners_dsn, partner)}
    return plans.as_markdown(found, {q.name: q.sql for q in [*queries, *partner]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a run under a minute (shorter windows)")
    parser.add_argument("--json", dest="json_file", help="also write the figures to this file")
    parser.add_argument("--only", nargs="+", help="run only these scenarios (baselines always run)")
    parser.add_argument(
        "--profile",
        nargs="+",
        metavar="PROCESS",
        help="py-spy flame graphs of these processes (e.g. reservations) at c32",
    )
    parser.add_argument(
        "--profile-dir", type=Path, default=Path("bench/profiles"), help="where --profile writes (default: %(default)s)"
    )
    parser.add_argument(
        "--profile-format",
        choices=("flamegraph", "raw"),
        default="flamegraph",
        help="svg flame graphs, or raw collapsed stacks (.txt) to add up by function",
    )
    parser.add_argument(
        "--counts-only",
        type=int,
        nargs="?",
        const=10,
        metavar="N",
        help="only count what a request costs, over N requests one after another (default 10)",
    )
    parser.add_argument("--rows", type=int, default=0, help="first load N reservations over 24 months (COPY)")
    parser.add_argument(
        "--bookings", type=int, default=None, help="partner bookings to load (default: 100,000 with --rows)"
    )
    parser.add_argument("--explain", type=Path, help="write EXPLAIN (ANALYZE, BUFFERS) of the hot reads here")
    parser.add_argument(
        "--processes",
        nargs="+",
        type=service_processes,
        default=[],
        metavar="SERVICE=N",
        help="run these services as N worker processes on one port (novatrek serve --processes)",
    )
    parser.add_argument(
        "--connections", type=int, default=1, help="connections get_reservation's load spreads its calls over"
    )
    args = parser.parse_args(argv)
    seconds, warmup_s = (1.0, 0.3) if args.quick else (5.0, 1.0)
    started = time.time()
    print("starting the mesh ...", file=sys.stderr, flush=True)
    s = stacks.start(processes=dict(args.processes))
    try:
        grow(s, args)
        baselines, scenarios = plan(s, args.connections)
        meter = CpuMeter(s.pids())
        profiler = Profiler(s.pids(), args.profile, args.profile_dir, args.profile_format) if args.profile else None
        if args.only:
            scenarios = {k: v for k, v in scenarios.items() if k in args.only}
        if args.counts_only:
            found = asyncio.run(count_only(s, scenarios, args.counts_only))
            print(counts_table(found))
            if args.json_file:
                with open(args.json_file, "w") as f:
                    json.dump({"scenarios": {k: {"per_request": v} for k, v in found.items()}}, f, indent=2)
            return 0
        report = {
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "baselines": measure(baselines, seconds, warmup_s, meter),
            "scenarios": measure(scenarios, seconds, warmup_s, meter, profiler, s),
        }
    finally:
        s.stop()
    add_ratios(report)
    print(table(report))
    print(cpu_table(report))
    print(cores_table(report))
    print(counts_table({k: v["c32"].get("per_request", {}) for k, v in report["scenarios"].items()}))
    print(f"(total {time.time() - started:.0f} s)", file=sys.stderr)
    if args.json_file:
        with open(args.json_file, "w") as f:
            json.dump({k: report[k] for k in ("baselines", "scenarios", "machine")}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m benchmarks [--quick] [--json PATH] [--only floor,engine,...]`

Runs every scenario in one process tree, prints a table and optionally writes the results as JSON
(median, p95, samples and the ratio to the raw-SpiffWorkflow floor where there is one). Scenarios run
on SQLite and, when OAFLOW_DATABASE_URL points at PostgreSQL, on PostgreSQL too. `--quick` is a
seconds-long smoke run (small data sets, few samples) with no timing assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from . import machine, scenarios, web_flow
from .stats import Result

ORDER = ["floor", "engine", "rest", "web", "inbox", "sweep", "concurrency", "memory"]


def _backends() -> list[tuple[str, str | None]]:
    backends = [("sqlite", None)]
    url = os.environ.get("OAFLOW_DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        backends.append(("postgres", url))
    return backends


def _progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run, small data sets")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--only", help=f"comma-separated scenarios ({','.join(ORDER)})")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.only.split(",")] if args.only else ORDER
    unknown = set(wanted) - set(ORDER)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    if {"engine", "rest"} & set(wanted) and "floor" not in wanted:
        wanted.append("floor")  # their ratio to the floor needs the floor from the same run

    results: list[Result] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oaflow-bench-") as tmp:
        floor = None
        try:
            for name in [n for n in ORDER if n in wanted]:
                for backend, url in _backends():
                    if name == "floor" and backend != "sqlite":
                        continue  # no database involved
                    if name == "concurrency" and backend != "postgres":
                        continue  # several writer processes add nothing on SQLite (DESIGN §8)
                    if name == "web" and backend != "sqlite":
                        continue  # `oaflow serve` with its defaults: SQLite in its data directory
                    _progress(f"{name} on {backend}")
                    scenario = web_flow.web if name == "web" else getattr(scenarios, name)
                    for result in scenario(Path(tmp), backend, url, quick=args.quick, progress=_progress):
                        if name == "floor":
                            floor = result
                        elif floor is not None and result.vs_floor:
                            result.floor_ratio = result.median / floor.median
                        results.append(result)
        finally:
            scenarios.drop_databases()

    round_trip = machine.loopback_round_trip_us(200 if args.quick else 2000)
    print(_table(results))
    print(
        f"\n{len(results)} measurements in {time.perf_counter() - started:.1f} s on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}){' — quick run' if args.quick else ''}; "
        f"loopback round trip between two processes {round_trip:.0f} µs"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "quick": args.quick,
                    "machine": {
                        "cores": os.cpu_count(),
                        "python": platform.python_version(),
                        "platform": platform.platform(),
                        "loopback_round_trip_us": round(round_trip, 1),
                    },
                    "results": [r.as_dict() for r in results],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    return 0


def _table(results: list[Result]) -> str:
    header = f"{'scenario':<34} {'backend':<9} {'median':>10} {'p95':>10} {'n':>6} {'× floor':>8}  {'goal':<16} note"
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = f"{r.floor_ratio:.2f}" if r.floor_ratio else ""
        figures = f"{r.fmt(r.median):>10} {r.fmt(r.p95):>10} {r.samples:>6} {ratio:>8}"
        lines.append(f"{r.metric:<34} {r.backend:<9} {figures}  {r.goal or '':<16} {r.note or ''}".rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

"""Every benchmark, one after another, and a Markdown table of the results to paste into README.

`python bench/run.py [--quick]`. Runs bench/send.py (2,000 invitations, memory at 10,000 and 50,000
recipients), then bench/zoom_calls.py, bench/startup.py, bench/status.py (100 and 1,000 seminars) and
bench/rundue.py (20 and 200 due steps), each printing its own lines as it goes, and ends with the table.
Every row is a ratio against a baseline measured in the same run. `--quick` uses smaller sizes and
fewer runs, for a check that everything works.

Exit code 0 when every benchmark ran, whether or not it met its goal (the table says); 1 when one crashed
(the others still run, and the table marks it).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

import rundue
import send
import startup
import status
import zoom_calls

COLUMNS = ("benchmark", "opsflow", "baseline", "ratio", "goal", "met")


def benchmarks(quick: bool) -> list[tuple[str, Callable[[], list[dict]]]]:
    """(name, call) for each benchmark, in the order they run; nothing else runs alongside any of them."""
    if quick:
        return [
            ("send", lambda: send.run(n=300, sizes=(1000, 5000), runs=1)),
            ("zoom_calls", lambda: zoom_calls.run(registrants=1000, participants=1000)),
            ("startup", lambda: startup.run(runs=5)),
            ("status", lambda: status.run(events=20, deliveries_per_event=200, runs=2, scale=10)),
            ("rundue", lambda: rundue.run(small=5, scale=10, runs=2)),
        ]
    return [
        ("send", lambda: send.run(n=2000, sizes=(10000, 50000), runs=3)),
        ("zoom_calls", lambda: zoom_calls.run(registrants=1000, participants=1000)),
        ("startup", lambda: startup.run(runs=20)),
        ("status", lambda: status.run(events=100, deliveries_per_event=1000, runs=5, scale=10)),
        ("rundue", lambda: rundue.run(small=20, scale=10, runs=5)),
    ]


def cell(text: object) -> str:
    """A table cell: pipes escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        ratio = row["ratio"] if isinstance(row["ratio"], str) else f"{row['ratio']:.2f}"
        met = row["ok"] if isinstance(row["ok"], str) else ("yes" if row["ok"] else "**no**")
        values = (row["name"], row["value"], row["baseline"], ratio, row["goal"], met)
        lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines)


def crashed(name: str) -> dict:
    return {"name": f"{name} (crashed)", "value": "-", "baseline": "-", "ratio": "-", "goal": "-", "ok": "crashed"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[dict] = []
    failures = 0
    started = time.perf_counter()
    for name, call in benchmarks(args.quick):
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        try:
            rows += call()
        except (Exception, SystemExit) as exc:  # noqa: BLE001  (a setup failure is SystemExit(message))
            failures += 1
            rows.append(crashed(name))
            if isinstance(exc, SystemExit):
                print(f"error: {name} stopped: {exc}", file=sys.stderr, flush=True)
            else:
                traceback.print_exc()
        print(f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    print(f"\nall benchmarks in {time.perf_counter() - started:.0f} s{' (--quick)' if args.quick else ''}; "
          f"this machine: 2 cores\n", flush=True)
    print(table(rows))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

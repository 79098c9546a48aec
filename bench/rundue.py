"""Due-steps benchmark: one `opsflow run-due` that finds 200 steps due against one that finds 20, as whole
processes. Ten times the work may cost at most ten times the time; the fixed part (start, the plan, the
holiday calendar) should be paid once, not per seminar.

`python bench/rundue.py [--small 20] [--scale 10] [--runs 5]`. `--small` (then `--small` x `--scale`) copies
of the Zoom-less example, each with its own id and the example's 40 registrants, are applied to a SQLite
database (not timed); the timed `opsflow run-due` then runs each seminar's on-apply `registrants.sync`, which
imports its registrants. Each timed run starts from a copy of the applied database.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import startup  # bench/startup.py: starting and timing whole processes

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"
EXAMPLE_CSV = BENCH.parent / "jobs" / "registrants" / "example-seminar.csv"
GOAL_RATIO = 10.0
REGISTRANTS_PER_SEMINAR = 40


def write_jobs(jobs: Path, count: int, now: datetime) -> None:
    """`count` Zoom-less copies of the example, with their own ids, two days apart from 60 days on."""
    (jobs / "registrants").mkdir(parents=True)
    text = startup.job_without_zoom(EXAMPLE_JOB.read_text(encoding="utf-8"), now)
    first = now + timedelta(days=60)
    for n in range(1, count + 1):
        start = (first + timedelta(days=2 * n)).astimezone(timezone(timedelta(hours=9)))
        start = start.replace(hour=18, minute=0, second=0, microsecond=0)
        lines = []
        for line in text.splitlines():
            if line.startswith("id = "):
                line = f'id = "seminar-{n:03d}"'
            elif line.startswith("start = "):
                line = f"start = {start.isoformat()}"
            lines.append(line)
        (jobs / f"seminar-{n:03d}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(EXAMPLE_CSV, jobs / "registrants" / EXAMPLE_CSV.name)


def measure(count: int, runs: int) -> float:
    """Median milliseconds of a `run-due` that runs `count` due steps."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        write_jobs(folder / "jobs", count, now)
        env = startup.bench_env(folder / "opsflow.db")
        opsflow = startup.opsflow_command()
        startup.check(opsflow + ["apply", "--now", now.isoformat()], folder, env)
        applied = folder / "applied.db"
        shutil.copy(folder / "opsflow.db", applied)
        times = []
        for n in range(runs + 1):  # the first warms the page cache and is not counted
            for suffix in ("", "-wal", "-shm"):
                (folder / f"opsflow.db{suffix}").unlink(missing_ok=True)
            shutil.copy(applied, folder / "opsflow.db")
            seconds, done = startup.timed(opsflow + ["run-due", "--now", now.isoformat()], folder, env)
            out = done.stdout.decode()
            synced = out.count("registrants.sync done")
            if done.returncode != 0 or synced != count:
                raise SystemExit(f"`opsflow run-due` ran {synced} of {count} registrants.sync steps "
                                 f"(exit {done.returncode}):\n{out[-2000:]}{done.stderr.decode()[-2000:]}")
            if n > 0:
                times.append(seconds)
    return startup.median_ms(times)


def run(small: int = 20, scale: int = 10, runs: int = 5) -> list[dict]:
    """The large run over the small one, as [{name, value, baseline, ratio, goal, ok}]."""
    small_ms = measure(small, runs)
    large_ms = measure(small * scale, runs)
    ratio = large_ms / small_ms
    per_step = (large_ms - small_ms) / (small * scale - small)
    print(f"run-due, {small * scale} due steps {large_ms:.0f} ms, {small} due steps {small_ms:.0f} ms (medians of "
          f"{runs}); ratio {ratio:.2f} (goal <= {GOAL_RATIO}); {per_step:.1f} ms a step "
          f"({REGISTRANTS_PER_SEMINAR} registrants imported each)", flush=True)
    return [{"name": f"`opsflow run-due`, {small * scale} due steps vs {small}", "value": f"{large_ms:.0f} ms",
             "baseline": f"{small_ms:.0f} ms", "ratio": ratio, "goal": f"<= {GOAL_RATIO:.0f} "
             f"({per_step:.1f} ms a step)", "ok": ratio <= GOAL_RATIO}]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20, help="due steps in the small run")
    parser.add_argument("--scale", type=int, default=10, help="how many times more in the large run")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (the median is taken)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run(args.small, args.scale, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

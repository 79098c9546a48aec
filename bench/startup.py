"""Startup benchmark: `opsflow run-due` with nothing due (cron's every minute), as a whole process, against
`python -c "import click, sqlalchemy"` (what any click program with a database pays before it does anything).

`python bench/startup.py [--runs 30]`. The example job, without its [zoom] table so that nothing needs
Zoom, is applied to a SQLite database in a temp folder and its on-apply steps are run; then `run-due`,
`run-due --json` and the baseline start `--runs` times each, interleaved, and the medians of their
wall-clock times are compared. The same again (plain and `--json`) on PostgreSQL when OPSFLOW_TEST_DATABASE_URL (or
OPSFLOW_BENCH_DATABASE_URL) names a server (its own schema, dropped afterwards); otherwise that row says why
it did not run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"
EXAMPLE_CSV = BENCH.parent / "jobs" / "registrants" / "example-seminar.csv"

GOAL_RATIO = 1.25
EARLIEST_MAIL = timedelta(days=15)  # the example's first mail is 14 days before the start, at 10:00
COMMAND_TIMEOUT = 120.0


# --- processes --------------------------------------------------------------------------------------

def opsflow_command() -> list[str]:
    """The `opsflow` console script of this interpreter's environment, as cron would start it."""
    script = Path(sys.executable).parent / "opsflow"
    if script.is_file():
        return [str(script)]
    found = shutil.which("opsflow")
    if found is None:
        raise SystemExit(f"no `opsflow` script beside {sys.executable} or on PATH: pip install -e . first")
    return [found]


def baseline_command() -> list[str]:
    return [sys.executable, "-c", "import click, sqlalchemy"]


def bench_env(database: Path | str) -> dict[str, str]:
    """This process's environment without any OPSFLOW_* setting, and the benchmark's database (a SQLite
    file, or a URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    env["OPSFLOW_DATABASE_URL"] = database if isinstance(database, str) else f"sqlite:///{database}"
    return env


def postgres_url() -> str | None:
    """The PostgreSQL server to measure on, if one is named."""
    return os.environ.get("OPSFLOW_BENCH_DATABASE_URL") or os.environ.get("OPSFLOW_TEST_DATABASE_URL")


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the server for one measurement; yields the URL that uses it, drops it after."""
    import sqlalchemy as sa

    name = f"opsflow_bench_{os.getpid()}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{name}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()


def check(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a setup command; fail the benchmark with its output unless it exits 0."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command[1:] if command[0].endswith('opsflow') else command)}` failed "
                         f"(exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall-clock seconds from starting the process to its exit, output captured through pipes."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
    return time.perf_counter() - started, done


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


# --- setup (never timed) ----------------------------------------------------------------------------

def job_without_zoom(text: str, now: datetime) -> str:
    """The example job without its [zoom] table and without the registration confirmation (`confirmation =
    false`: a mail on apply, which would need a mail server; these benchmarks time steps that send nothing).
    When its first mail would already be due (the example has a fixed date), the seminar moves to 60 days
    from now, so that nothing is due when timed."""
    lines = text.splitlines()
    kept, skipping = [], False
    for line in lines:
        header = line.strip()
        if header.startswith("["):
            skipping = header == "[zoom]"
        if not skipping:
            kept.append(line)
        if header == "[event]":
            kept.append("confirmation = false")
    start = tomllib.loads(text)["event"]["start"]
    if start - EARLIEST_MAIL <= now + timedelta(days=1):
        day = (now + timedelta(days=60)).astimezone(ZoneInfo("Asia/Tokyo")).date()
        moved = datetime.combine(day, clock_time(18, 0), ZoneInfo("Asia/Tokyo")).isoformat()
        kept = [f"start = {moved}" if line.startswith("start = ") else line for line in kept]
    return "\n".join(kept) + "\n"


def prepare_folder(folder: Path, database: str | None = None) -> dict[str, str]:
    """Apply the Zoom-less example in `folder` (to `database`, or a SQLite file there), run its on-apply
    steps, and check that `opsflow run-due` then has nothing to do. Returns the environment to run
    commands with (cwd `folder`)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    jobs = folder / "jobs"
    (jobs / "registrants").mkdir(parents=True)
    (jobs / EXAMPLE_JOB.name).write_text(job_without_zoom(EXAMPLE_JOB.read_text(encoding="utf-8"), now),
                                         encoding="utf-8")
    shutil.copy(EXAMPLE_CSV, jobs / "registrants" / EXAMPLE_CSV.name)
    env = bench_env(database or folder / "opsflow.db")
    opsflow = opsflow_command()
    check(opsflow + ["apply", "--now", now.isoformat()], folder, env)
    ran = check(opsflow + ["run-due", "--now", now.isoformat()], folder, env)
    if "registrants.sync done" not in ran.stdout:
        raise SystemExit(f"the on-apply steps did not run as expected:\n{ran.stdout}{ran.stderr}")
    for extra in ([], ["--json"]):
        idle = check(opsflow + ["run-due", *extra], folder, env)
        if idle.stderr or (idle.stdout if not extra else not idle.stdout.strip()):
            raise SystemExit(f"`opsflow run-due {' '.join(extra)}` should have nothing to do, but printed:\n"
                             f"{idle.stdout}{idle.stderr}")
    return env


# --- the measurement --------------------------------------------------------------------------------

PATHS = {  # row name -> the arguments of `opsflow`
    "plain": ["run-due"],
    "json": ["run-due", "--json"],
}


def measure(runs: int, database: str | None = None) -> dict[str, float]:
    """Median milliseconds of each command of PATHS and of the baseline over `runs` starts each, on
    `database` (a SQLite file in a temp folder when None)."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        env = prepare_folder(folder, database)
        commands = {name: opsflow_command() + args for name, args in PATHS.items()}
        commands["baseline"] = baseline_command()
        for command in commands.values():  # once each untimed: the page cache, .pyc files
            timed(command, folder, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for n in range(runs):
            for name in names[n % len(names):] + names[: n % len(names)]:  # each takes every place in turn
                seconds, done = timed(commands[name], folder, env)
                quiet = not done.stdout if name != "json" else bool(done.stdout.strip())
                if done.returncode != 0 or done.stderr or not quiet:
                    raise SystemExit(f"{' '.join(commands[name])} exited {done.returncode} with output:\n"
                                     f"{done.stdout.decode()}{done.stderr.decode()}")
                times[name].append(seconds)
    return {name: median_ms(t) for name, t in times.items()}


def row(name: str, opsflow_ms: float, baseline_ms: float) -> dict:
    ratio = opsflow_ms / baseline_ms
    print(f"startup, {name}: {opsflow_ms:.0f} ms, baseline `python -c \"import click, sqlalchemy\"` "
          f"{baseline_ms:.0f} ms, ratio {ratio:.2f} (goal <= {GOAL_RATIO})", flush=True)
    return {"name": f"startup, {name}", "value": f"{opsflow_ms:.0f} ms",
            "baseline": f"{baseline_ms:.0f} ms (`import click, sqlalchemy`)", "ratio": ratio,
            "goal": f"<= {GOAL_RATIO}", "ok": ratio <= GOAL_RATIO}


def run(runs: int = 30) -> list[dict]:
    """The startup ratios (nothing due: plain and --json, on SQLite and PostgreSQL) as [{name, value, baseline, ratio, goal, ok}]."""
    sqlite = measure(runs)
    rows = [row("`opsflow run-due`, nothing due (SQLite)", sqlite["plain"], sqlite["baseline"]),
            row("`opsflow run-due --json`, nothing due (SQLite)", sqlite["json"], sqlite["baseline"])]
    url = postgres_url()
    if url is None:
        print("startup on PostgreSQL: not measured (set OPSFLOW_TEST_DATABASE_URL)", flush=True)
        for name in ("`opsflow run-due`", "`opsflow run-due --json`"):
            rows.append({"name": f"startup, {name}, nothing due (PostgreSQL)", "value": "-", "baseline": "-",
                         "ratio": "-", "goal": f"<= {GOAL_RATIO}", "ok": "not run: no OPSFLOW_TEST_DATABASE_URL"})
        return rows
    with postgres_schema(url) as schema_url:
        postgres = measure(runs, schema_url)
    rows.append(row("`opsflow run-due`, nothing due (PostgreSQL)", postgres["plain"], postgres["baseline"]))
    rows.append(row("`opsflow run-due --json`, nothing due (PostgreSQL)", postgres["json"], postgres["baseline"]))
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="starts of each command (the median is taken)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv).runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

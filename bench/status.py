"""Status benchmark: `opsflow status` over 100 seminars and 100,000 deliveries, as a whole process, against
a one-second goal.

`python bench/status.py [--events 100] [--deliveries 1000] [--runs 5]`. 100 job files made from the
example (their own ids, one a week) are applied to a SQLite database in a temp folder; the steps of the
seminars already held are marked done (a few failed or missed), and each seminar gets `--deliveries`
rows in the delivery ledger in mixed states, inserted in bulk through opsflow.store's tables. Then
`opsflow status` and `opsflow status --json` run `--runs` times each (median, output through a pipe).
`python -c "import opsflow"` is timed alongside, for context only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
import startup  # bench/startup.py: starting and timing whole processes

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.jobspec import load_jobs
from opsflow.store import open_store
from opsflow.store.schema import deliveries, steps

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"
EXAMPLE_CSV = BENCH.parent / "jobs" / "registrants" / "example-seminar.csv"

GOAL_SECONDS = 1.0
FIRST_START = datetime(2025, 2, 6, 9, 0, tzinfo=timezone.utc)  # a Thursday, 18:00 JST; then one a week
AS_OF = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)  # seminars before this have been held
MESSAGE_KEYS = ("mail.invitation", "mail.reminder.1d", "mail.reminder.1h", "survey")
INSERT_CHUNK = 10_000


def event_id(n: int) -> str:
    return f"seminar-{n:03d}"


# --- setup (never timed) ----------------------------------------------------------------------------

def write_jobs(jobs: Path, count: int) -> list[Path]:
    """`count` copies of the example job, each with its own id, title and start (a week apart)."""
    (jobs / "registrants").mkdir(parents=True)
    shutil.copy(EXAMPLE_CSV, jobs / "registrants" / EXAMPLE_CSV.name)
    text = EXAMPLE_JOB.read_text(encoding="utf-8")
    paths = []
    for n in range(1, count + 1):
        start = (FIRST_START + timedelta(weeks=n - 1)).astimezone(timezone(timedelta(hours=9)))
        lines = []
        for line in text.splitlines():
            if line.startswith("id = "):
                line = f'id = "{event_id(n)}"'
            elif line.startswith("title = "):
                line = f'title = "パブリテックセミナー vol.{n}「自治体DXの現場から」"'
            elif line.startswith("start = "):
                line = f"start = {start.isoformat()}"
            lines.append(line)
        path = jobs / f"{event_id(n)}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def delivery_state(event_number: int, is_held: bool, person: int) -> tuple[str, str | None]:
    """(state, last error) of one row: held seminars mostly sent, with some failed and deferred, and in
    every tenth seminar two people's rows ambiguous (`sending`); later seminars' rows pending."""
    if not is_held:
        return "pending", None
    if event_number % 10 == 0 and person in (3, 4):
        return "sending", None
    if person % 50 == 7:
        return "failed", "550 5.1.1 <x@example.jp>: Recipient address rejected: User unknown"
    if person % 50 == 13:
        return "deferred", "451 4.7.1 Try again later"
    return "sent", None


def fill_ledger(conn, event_numbers: list[int], held: set[int], per_event: int) -> int:
    """Insert `per_event` delivery rows for each event, in bulk; returns how many."""
    people = -(-per_event // len(MESSAGE_KEYS))
    rows, total = [], 0
    for n in event_numbers:
        for index in range(per_event):
            person, key = index % people, MESSAGE_KEYS[index // people]
            state, error = delivery_state(n, n in held, person)
            rows.append({"event_id": event_id(n), "recipient": f"p{person:05d}@city.example.lg.jp",
                         "message_key": key, "state": state, "attempts": 0 if state == "pending" else 1,
                         "last_error": error, "created_at": AS_OF, "updated_at": AS_OF,
                         "sent_at": AS_OF if state == "sent" else None,
                         "message_id": f"<{n}.{index}@example.jp>" if state == "sent" else None})
            if len(rows) == INSERT_CHUNK:
                conn.execute(deliveries.insert(), rows)
                total += len(rows)
                rows = []
    if rows:
        conn.execute(deliveries.insert(), rows)
        total += len(rows)
    return total


def build_database(folder: Path, count: int, per_event: int) -> tuple[dict[str, str], int]:
    """The jobs, the applied database and its ledger in `folder`. Returns the environment for the
    commands (cwd `folder`) and the number of steps."""
    events = load_jobs(write_jobs(folder / "jobs", count))
    store = open_store(f"sqlite:///{folder / 'opsflow.db'}")
    try:
        apply_events(store, events, FIRST_START - timedelta(days=30))
        held = {n for n, e in enumerate(events, start=1) if e.end_at < AS_OF}
        s = steps.c
        with store.begin() as conn:
            conn.execute(steps.update().where(s.due_at < AS_OF)
                         .values(state="done", attempts=1, started_at=s.due_at, finished_at=s.due_at, updated_at=AS_OF))
            for n in sorted(held):
                if n % 20 == 0:
                    db.finish_step(conn, event_id(n), "report.fetch", "failed", AS_OF,
                                   "Zoom has no participant report 24 hours after the end")
                if n % 25 == 1:
                    db.finish_step(conn, event_id(n), "mail.reminder.1h", "missed", AS_OF,
                                   "found after the seminar had started: not sent")
            added = fill_ledger(conn, list(range(1, count + 1)), held, per_event)
            step_count = conn.execute(sa.select(sa.func.count()).select_from(steps)).scalar()
        if added != count * per_event:
            raise SystemExit(f"setup inserted {added} deliveries, expected {count * per_event}")
    finally:
        store.dispose()
    return startup.bench_env(folder / "opsflow.db"), step_count


# --- the measurement --------------------------------------------------------------------------------

def check_output(name: str, out: bytes, count: int, per_event: int) -> None:
    """Fail unless the output shows every seminar (and, as JSON, every delivery)."""
    text = out.decode("utf-8")
    if name == "json":
        data = json.loads(text)
        shown = sum(sum(e["deliveries"].values()) for e in data["events"])
        if len(data["events"]) != count or shown != count * per_event:
            raise SystemExit(f"`opsflow status --json` showed {len(data['events'])} events and {shown} deliveries, "
                             f"expected {count} and {count * per_event}")
    elif not all(event_id(n) in text for n in range(1, count + 1)):
        raise SystemExit(f"`opsflow status` did not show every one of the {count} seminars")


def measure(count: int, per_event: int, runs: int) -> tuple[dict[str, float], int]:
    """Median milliseconds of `status`, `status --json` and the import baseline; and the step count."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        env, step_count = build_database(folder, count, per_event)
        opsflow = startup.opsflow_command()
        commands = {"text": opsflow + ["status"], "json": opsflow + ["status", "--json"],
                    "baseline": startup.baseline_command()}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for n in range(runs + 1):  # the first round warms the page cache and is not counted
            for name, command in commands.items():
                seconds, done = startup.timed(command, folder, env)
                if done.returncode != 0:
                    raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr.decode()}")
                if name != "baseline" and n == 0:
                    check_output(name, done.stdout, count, per_event)
                if n > 0:
                    times[name].append(seconds)
    return {name: startup.median_ms(t) for name, t in times.items()}, step_count


def run(events: int = 100, deliveries_per_event: int = 1000, runs: int = 5) -> list[dict]:
    """`status` and `status --json` against the goal, as [{name, value, baseline, ratio, goal, ok}]."""
    medians, step_count = measure(events, deliveries_per_event, runs)
    what = f"{events} seminars ({step_count:,} steps), {events * deliveries_per_event:,} deliveries"
    rows = []
    for name, label in (("text", "`opsflow status`"), ("json", "`opsflow status --json`")):
        seconds = medians[name] / 1000
        ratio = seconds / GOAL_SECONDS
        print(f"{label}, {what}: {seconds:.2f} s (median of {runs}), goal {GOAL_SECONDS:.0f} s, ratio {ratio:.2f} "
              f"(goal < 1.0); `python -c \"import opsflow\"` takes {medians['baseline']:.0f} ms", flush=True)
        rows.append({"name": f"{label}, {events} seminars, {events * deliveries_per_event:,} deliveries",
                     "value": f"{seconds:.2f} s",
                     "baseline": f"{GOAL_SECONDS:.0f} s budget (`import opsflow`: {medians['baseline']:.0f} ms)",
                     "ratio": ratio, "goal": "< 1.0", "ok": ratio < 1.0})
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="seminars in the database")
    parser.add_argument("--deliveries", type=int, default=1000, help="delivery rows per seminar")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is taken)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run(args.events, args.deliveries, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Status benchmark: `opsflow status` as the database grows tenfold (1,000 seminars and 1M deliveries against
100 and 100,000), as whole processes: what it costs should follow what it shows, not the ledger's size.

`python bench/status.py [--events 100] [--deliveries 1000] [--scale 10] [--runs 5]`. `--events` job files
made from the example (their own ids, one a week) are applied to a SQLite database in a temp folder; the
steps of the seminars already held are marked done (a few failed or missed), and each seminar gets
`--deliveries` rows in the delivery ledger in mixed states, inserted in bulk through opsflow.store's
tables. The same again with `--scale` times the seminars. On each, `opsflow status` and `opsflow status
--json` run `--runs` times (median, output through a pipe); the ratio is the large database's time over
the small one's.
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

GOAL_RATIO = 1.3
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

def check_output(name: str, out: bytes) -> None:
    """Fail unless the output puts the failed and missed steps first (they are the same at every size) and
    says how many seminars it left out (the default view shows those around today)."""
    text = out.decode("utf-8")
    if name == "json":
        data = json.loads(text)
        attention = data.get("needs_attention") or data.get("attention") or []
        if not attention:
            raise SystemExit(f"`opsflow status --json` showed nothing needing attention: {text[:500]}")
        if not data.get("not_shown"):
            raise SystemExit(f"`opsflow status --json` did not say how many seminars it left out: {text[-500:]}")
    elif "Needs attention" not in text or "report.fetch" not in text:
        raise SystemExit(f"`opsflow status` did not show the failed steps first:\n{text[:2000]}")
    elif "more seminars: opsflow status --all" not in text:
        raise SystemExit(f"`opsflow status` did not say how many seminars it left out:\n{text[-2000:]}")


def measure(count: int, per_event: int, runs: int) -> tuple[dict[str, float], int]:
    """Median milliseconds of `status` and `status --json` over `count` seminars; and the step count."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        env, step_count = build_database(folder, count, per_event)
        opsflow = startup.opsflow_command()
        commands = {"text": opsflow + ["status"], "json": opsflow + ["status", "--json"]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for n in range(runs + 1):  # the first round warms the page cache and is not counted
            for name, command in commands.items():
                seconds, done = startup.timed(command, folder, env)
                if done.returncode != 0:
                    raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr.decode()}")
                if n == 0:
                    check_output(name, done.stdout)
                else:
                    times[name].append(seconds)
    return {name: startup.median_ms(t) for name, t in times.items()}, step_count


def run(events: int = 100, deliveries_per_event: int = 1000, runs: int = 5, scale: int = 10) -> list[dict]:
    """`status` and `status --json` on the large database over the small one, as [{name, value, baseline,
    ratio, goal, ok}]."""
    small, small_steps = measure(events, deliveries_per_event, runs)
    large, large_steps = measure(events * scale, deliveries_per_event, runs)
    rows = []
    for name, label in (("text", "`opsflow status`"), ("json", "`opsflow status --json`")):
        ratio = large[name] / small[name]
        print(f"{label}: {events * scale:,} seminars ({large_steps:,} steps), {events * scale * deliveries_per_event:,} "
              f"deliveries {large[name]:.0f} ms; {events:,} seminars ({small_steps:,} steps), "
              f"{events * deliveries_per_event:,} deliveries {small[name]:.0f} ms (medians of {runs}); ratio "
              f"{ratio:.2f} (goal <= {GOAL_RATIO})", flush=True)
        rows.append({"name": f"{label}, {events * scale:,} seminars / {events * scale * deliveries_per_event:,} "
                             f"deliveries vs {events:,} / {events * deliveries_per_event:,}",
                     "value": f"{large[name]:.0f} ms", "baseline": f"{small[name]:.0f} ms",
                     "ratio": ratio, "goal": f"<= {GOAL_RATIO}", "ok": ratio <= GOAL_RATIO})
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="seminars in the database")
    parser.add_argument("--deliveries", type=int, default=1000, help="delivery rows per seminar")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is taken)")
    parser.add_argument("--scale", type=int, default=10, help="how many times more seminars the large database has")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run(args.events, args.deliveries, args.runs, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())

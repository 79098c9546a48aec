"""Zoom-call benchmark: the API calls opsflow makes against the fewest that could do the same work.

`python bench/zoom_calls.py [--registrants 1000] [--participants 1000]`. Everything runs against the
fake Zoom on loopback (opsflow.sandbox.zoom) with a virtual clock, so pacing and the report delay cost
no real time. Only API calls are counted: token requests and the calls made during setup are not.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import sys
import tempfile
import tomllib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from opsflow.core.apply import apply_events
from opsflow.core.config import Secret
from opsflow.sandbox.demo import DemoClock  # a clock that moves when told to, never waits
from opsflow.core.jobspec import Event, load_job
from opsflow.zoom.meeting import create_meeting
from opsflow.registrants import event_csv_path, import_people, read_registrants
from opsflow.registrants.zoomsync import sync_zoom
from opsflow.after.report import fetch_report
from opsflow.sandbox.zoom import FakeZoom, Recorded
from opsflow.sandbox.zoom_state import MAX_BATCH_REGISTRANTS, MAX_PAGE_SIZE
from opsflow.store import Store, open_store
from opsflow.zoom import Credentials, RetryPolicy, Zoom

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"

SETUP_AT = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)  # when the seminar is applied
SYNC_AT = datetime(2027, 1, 21, 8, 0, tzinfo=timezone.utc)  # the virtual clock's start, seminar day
REPORT_DELAY = timedelta(minutes=30)  # the fake's (and Zoom's) wait before a report is ready
GOAL_RATIO = 1.0

ORGANIZATIONS = ("石川県加賀市", "福岡県糸島市", "北海道札幌市", "大阪府豊中市", "宮城県仙台市")


# --- setup (never counted) ------------------------------------------------------------------------

def person_email(n: int) -> str:
    return f"z{n:06d}@city.example.lg.jp"


def write_registrants_csv(path: Path, count: int) -> None:
    """A registration-form export with `count` people, numbered from 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("氏名,メールアドレス,自治体名\r\n")
        for n in range(1, count + 1):
            out.write(f"佐藤 花子{n},{person_email(n)},{ORGANIZATIONS[n % len(ORGANIZATIONS)]}\r\n")


def prepare_seminar(folder: Path, count: int) -> tuple[Store, Event]:
    """A copy of the example job (with Zoom registration) in `folder`, its CSV replaced by `count`
    generated people, applied to a new SQLite database. Nobody is imported yet."""
    job = folder / "jobs" / EXAMPLE_JOB.name
    job.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE_JOB, job)
    with job.open("rb") as raw:
        write_registrants_csv(job.parent / tomllib.load(raw)["registrants"]["csv"], count)
    event = load_job(job)
    if event.spec.zoom is None or not event.spec.zoom.registration:
        raise SystemExit(f"{EXAMPLE_JOB} no longer asks for Zoom registration; this benchmark needs it")
    store = open_store(f"sqlite:///{folder / 'opsflow.db'}")
    apply_events(store, [event], SETUP_AT)
    return store, event


def zoom_client(fake: FakeZoom, clock: DemoClock) -> Zoom:
    """An opsflow Zoom client pointed at the fake, on the virtual clock (as the tests make it)."""
    credentials = Credentials(fake.account_id, fake.client_id, Secret(fake.client_secret))
    return Zoom(credentials, api_url=fake.api_url, oauth_url=fake.oauth_url, timeout=(5.0, 30.0),
                retry=RetryPolicy(), clock=clock.monotonic, sleep=clock.sleep, now=clock.now,
                rng=random.Random(7))


def participant_segments(fake: FakeZoom, meeting_id: int, count: int, start: datetime) -> list[dict]:
    """One join segment for each of the first `count` people registered on the fake, with their
    registrant id; guests without an email fill up when fewer are registered."""
    people = fake.registrants(meeting_id)[:count]
    segments = [{"name": f"{p['last_name']} {p['first_name']}".strip(), "user_email": p["email"],
                 "registrant_id": p["id"], "join_time": start + timedelta(minutes=n % 7),
                 "leave_time": start + timedelta(minutes=60 + n % 31)} for n, p in enumerate(people)]
    segments += [{"name": f"ゲスト{n}", "user_email": "", "join_time": start,
                  "leave_time": start + timedelta(minutes=45)} for n in range(count - len(segments))]
    return segments


# --- counting -------------------------------------------------------------------------------------

def api_calls(fake: FakeZoom, since: int) -> list[Recorded]:
    """The API exchanges the fake saw after the first `since`, token requests left out."""
    return [r for r in fake.recorded[since:] if not r.path.startswith("/oauth/")]


def describe(calls: list[Recorded]) -> str:
    """`1 GET /v2/meetings/{id}/registrants, 34 POST /v2/meetings/{id}/batch_registrants`."""
    kinds = Counter(f"{r.method} {re.sub(r'/[0-9]+', '/{id}', r.path)}" for r in calls)
    return ", ".join(f"{n} {what}" for what, n in kinds.items()) or "none"


def result(name: str, calls: list[Recorded], minimum: int, minimum_text: str) -> dict:
    ratio = len(calls) / minimum
    return {"name": name, "value": f"{len(calls)} call{'' if len(calls) == 1 else 's'}",
            "baseline": f"{minimum} ({minimum_text})",
            "ratio": ratio, "goal": f"{GOAL_RATIO:.1f}", "ok": ratio <= GOAL_RATIO}


def line(row: dict, calls: list[Recorded]) -> str:
    return (f"{row['name']}: opsflow {row['value']} ({describe(calls)}), minimum {row['baseline']}, "
            f"ratio {row['ratio']:.2f} (goal {row['goal']})")


# --- the measurement ------------------------------------------------------------------------------

def measure(registrants: int, participants: int) -> list[dict]:
    clock = DemoClock(SYNC_AT)
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp, \
            FakeZoom(clock=clock.now, report_delay=REPORT_DELAY) as fake:
        store, event = prepare_seminar(Path(tmp), registrants)
        zoom = zoom_client(fake, clock)
        try:
            create_meeting(store, zoom, event, clock.now())
            (meeting_id,) = fake.meetings
            imported = import_people(store, event.id, read_registrants(event_csv_path(event)), clock.now())
            if len(imported.added) != registrants:
                raise SystemExit(f"setup imported {len(imported.added)} registrants, expected {registrants}")
            rows = []

            # 1. everyone registered: one pull of Zoom's (empty) list, then batches of 30
            mark = len(fake.recorded)
            synced = sync_zoom(store, zoom, event, clock.now())
            if synced.registered != registrants or len(fake.registrants(meeting_id)) != registrants:
                raise SystemExit(f"sync registered {synced.registered} (Zoom has {len(fake.registrants(meeting_id))}),"
                                 f" expected {registrants}")
            minimum = 1 + math.ceil(registrants / MAX_BATCH_REGISTRANTS)
            calls = api_calls(fake, mark)
            rows.append(result(f"Zoom calls, registering {registrants:,} registrants", calls, minimum,
                               f"1 list page + {minimum - 1} batches of {MAX_BATCH_REGISTRANTS}"))
            print(line(rows[-1], calls), flush=True)

            # 2. the same sync again: nothing new, so only Zoom's list is read (300 a page at most)
            mark = len(fake.recorded)
            again = sync_zoom(store, zoom, event, clock.now())
            calls = api_calls(fake, mark)
            if again.registered or any(r.method != "GET" for r in calls):
                raise SystemExit(f"the second sync registered {again.registered} again: {describe(calls)}")
            pages = max(1, math.ceil(registrants / MAX_PAGE_SIZE))
            rows.append(result(f"Zoom calls, re-running the sync of {registrants:,} (nothing new)", calls, pages,
                               f"1 list of {pages} page{'s' if pages > 1 else ''}, no registration"))
            print(line(rows[-1], calls), flush=True)

            # 3. the participant report, once Zoom has it
            clock.wall = event.end_at
            fake.end_meeting(meeting_id, ended_at=event.end_at,
                             participants=participant_segments(fake, meeting_id, participants, event.start_at))
            clock.wall += REPORT_DELAY + timedelta(minutes=1)
            mark = len(fake.recorded)
            fetched = fetch_report(store, zoom, event, clock.now())
            if (fetched.source, fetched.rows) != ("report", participants):
                raise SystemExit(f"the report fetch read {fetched.rows} rows from {fetched.source}, "
                                 f"expected {participants} from the report")
            minimum = max(1, math.ceil(participants / MAX_PAGE_SIZE))
            calls = api_calls(fake, mark)
            rows.append(result(f"Zoom calls, a {participants:,}-row participant report", calls, minimum,
                               f"pages of {MAX_PAGE_SIZE}"))
            print(line(rows[-1], calls), flush=True)
        finally:
            zoom.session.close()
            store.dispose()
    return rows


def run(registrants: int = 1000, participants: int = 1000) -> list[dict]:
    """The three counts, each as {name, value, baseline, ratio, goal, ok}."""
    return measure(registrants, participants)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrants", type=int, default=1000, help="people to register with Zoom")
    parser.add_argument("--participants", type=int, default=1000, help="rows of the participant report")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run(args.registrants, args.participants)
    return 0


if __name__ == "__main__":
    sys.exit(main())

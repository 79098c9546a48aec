"""`opsflow demo`: a whole seminar in well under a minute, with no accounts and nothing sent.

The fake Zoom on loopback, a file outbox, a fresh database, the example job with its registrants, a
simulated attendance and survey, and a clock that jumps from each due step to the next. What is left
behind: the outbox (.eml files and an index.html to read them in a browser) and the database.
"""

from __future__ import annotations

import base64
import html
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from opsflow.core.resources import example_files

DEMO_START = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 JST, a little before the invitation


class DemoClock:
    """The demo's time: moved by the demo, never waited for."""

    def __init__(self, start: datetime) -> None:
        self.wall = start

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.wall.timestamp()

    def sleep(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)


@dataclass
class DemoResult:
    folder: Path
    outbox: Path
    messages: int
    steps: int


def run_demo(folder: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the example seminar from planning to the last summary; everything lands in `folder`."""
    from opsflow import store as db
    from opsflow.core.apply import apply_events
    from opsflow.core.config import Secret, Settings
    from opsflow.core.jobspec import load_jobs
    from opsflow.core.runner import RunContext, run_due
    from opsflow.sandbox.zoom import FakeZoom
    from opsflow.store import open_store
    from opsflow.zoom import Credentials, Zoom
    from opsflow.zoom.meeting import sync_after_apply

    jobs, outbox = _fresh_folder(folder)
    clock = DemoClock(DEMO_START)
    with FakeZoom(clock=clock.now) as fake:
        settings = Settings(
            zoom_account_id=fake.account_id,
            zoom_client_id=fake.client_id,
            zoom_client_secret=Secret(fake.client_secret),
            zoom_api_url=fake.api_url,
            zoom_oauth_url=fake.oauth_url,
            smtp_url=Secret(f"file:{outbox}"),
            mail_from="パブリテックセミナー事務局 <seminar@example.jp>",
            organizer="パブリテックセミナー事務局",
            organizer_contact="seminar@example.jp",
            database_url=Secret(f"sqlite:///{folder / 'opsflow.db'}"),
            jobs_dir=jobs,
        )
        zoom = Zoom(
            Credentials(fake.account_id, fake.client_id, Secret(fake.client_secret)),
            api_url=fake.api_url,
            oauth_url=fake.oauth_url,
            clock=clock.monotonic,
            sleep=clock.sleep,
            now=clock.now,
        )
        store = open_store(settings.database_url.reveal())
        (event,) = load_jobs(sorted(jobs.glob("*.toml")))
        apply_events(store, [event], clock.now())
        sync_after_apply(store, lambda: zoom, [event], clock.now())
        echo(f"{_local(event, clock.now())}  applied {event.id}: {event.title}")
        steps_run, held, surveyed = 0, False, 0  # surveyed: answers imported, 0 until the survey goes out
        while True:
            with store.read() as conn:
                due = db.next_due_at(conn)
            if due is None:
                break
            clock.wall = max(clock.wall, due)
            if not held and clock.wall >= event.end_at:
                _hold_seminar(fake, event)
                held = True
                echo(f"{_local(event, event.end_at)}  the seminar ends on Zoom (simulated attendance)")
            for result in run_due(RunContext(store, settings, clock.now(), lambda: zoom, owner="demo")):
                steps_run += result.state == "done"
                detail = f"  {result.message}" if result.message else ""
                echo(f"{_local(event, clock.now())}  {result.key:<22} {result.state}{detail}")
                if result.key == "survey.send" and result.state == "done" and not surveyed:
                    surveyed = _answer_survey(store, event, folder, clock.now())
                    echo(f"{_local(event, clock.now())}  {surveyed} survey answers imported (simulated)")
        store.dispose()
    count = write_index(outbox)
    return DemoResult(folder, outbox, count, steps_run)


def _fresh_folder(folder: Path) -> tuple[Path, Path]:
    jobs, outbox = folder / "jobs", folder / "outbox"
    for path in (jobs, outbox):
        shutil.rmtree(path, ignore_errors=True)
    (folder / "opsflow.db").unlink(missing_ok=True)
    (jobs / "registrants").mkdir(parents=True)
    outbox.mkdir()
    job, csv = example_files()
    shutil.copy(job, jobs / job.name)
    shutil.copy(csv, jobs / "registrants" / csv.name)
    return jobs, outbox


def _hold_seminar(fake, event) -> None:
    """A realistic evening: most stay to the end, some rejoin, one joins twice, a few leave early,
    a guest without registration, someone stuck in the waiting room."""
    rng = random.Random(20270121)
    (meeting_id,) = fake.meetings
    people = fake.registrants(meeting_id)
    start, end = event.start_at, event.end_at
    segments = []
    for n, person in enumerate(people[:32]):
        who = {
            "name": f"{person.get('last_name', '')} {person['first_name']}".strip(),
            "user_email": person["email"],
            "registrant_id": person["id"],
        }
        late = timedelta(minutes=rng.choice([0, 0, 0, 1, 2, 5]))
        if n % 10 == 3:  # drops out and comes back
            segments.append({**who, "join_time": start + late, "leave_time": start + timedelta(minutes=25)})
            segments.append({**who, "join_time": start + timedelta(minutes=31), "leave_time": end})
        elif n % 10 == 7:  # stays only a few minutes
            segments.append({**who, "join_time": start + late, "leave_time": start + timedelta(minutes=6)})
        else:
            segments.append(
                {**who, "join_time": start + late, "leave_time": end - timedelta(minutes=rng.choice([0, 0, 3]))}
            )
    segments.append({"name": "ゲスト", "user_email": "", "join_time": start, "leave_time": end})
    segments.append(
        {
            "name": people[-1]["first_name"],
            "user_email": people[-1]["email"],
            "join_time": start,
            "leave_time": start + timedelta(minutes=2),
            "status": "in_waiting_room",
        }
    )
    fake.end_meeting(meeting_id, ended_at=end, participants=segments)


def _answer_survey(store, event, folder: Path, now: datetime) -> int:
    """About half the attendees answer, by the token in their link."""
    import csv
    import io

    from opsflow import store as db
    from opsflow.after.survey import import_responses

    comments = [
        "他自治体の具体的な事例が大変参考になりました。",
        "窓口改革の進め方をもっと詳しく聞きたいです。",
        "次回はデータ活用の事例もお願いします。",
        "録画の共有があると助かります。",
    ]
    with store.read() as conn:
        attended = {a["registrant_id"] for a in db.list_attendance(conn, event.id) if a["is_attended"]}
        people = [p for p in db.list_registrants(conn, event.id) if p["id"] in attended]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["タイムスタンプ", "token", "満足度", "ご意見・ご感想"])
    for n, person in enumerate(people[::2]):
        writer.writerow(
            [
                f"2027/01/22 {10 + n // 6}:{n % 6 * 9:02d}:00",
                person["survey_token"],
                5 - n % 3,
                comments[n % len(comments)] if n % 3 == 0 else "",
            ]
        )
    path = folder / "survey-answers.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return import_responses(store, event, path, now).matched


def write_index(outbox: Path) -> int:
    """An index.html beside the .eml files: every message listed, and shown (text and HTML)."""
    rows = []
    files = sorted(outbox.glob("*.eml"))
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=default)
        text = message.get_body(("plain",))
        page = message.get_body(("html",))
        shown = page.get_content() if page else ""
        for part in message.walk():  # inline images become data: URLs, so the page shows the chart
            cid = part.get("Content-ID")
            if cid and part.get_content_maintype() == "image":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)  # a part that is not multipart decodes to bytes
                data = base64.b64encode(payload).decode()
                shown = shown.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
        attachments = ", ".join(name for p in message.iter_attachments() if (name := p.get_filename()))
        rows.append(
            f"<details><summary><b>{html.escape(str(message['Subject']))}</b> &mdash; "
            f"{html.escape(str(message['To']))} &mdash; {html.escape(str(message['Date']))} "
            f'(<a href="{html.escape(path.name)}">{html.escape(path.name)}</a>'
            f"{'; ' + html.escape(attachments) if attachments else ''})</summary>"
            f"<pre>{html.escape(text.get_content() if text else '')}</pre>"
            f'<iframe sandbox srcdoc="{html.escape(shown)}"></iframe></details>'
        )
    (outbox / "index.html").write_text(
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>opsflow demo outbox</title>'
        "<style>body{font-family:sans-serif;margin:2em}details{margin:.4em 0}pre{background:#f6f8fa;padding:1em;"
        "white-space:pre-wrap}iframe{width:100%;height:30em;border:1px solid #ccc}</style></head><body>"
        f"<h1>opsflow demo: {len(files)} emails</h1>{''.join(rows)}</body></html>\n",
        encoding="utf-8",
    )
    return len(files)


def _local(event, moment: datetime) -> str:
    local = moment.astimezone(event.tz)
    return f"{local:%Y-%m-%d %a %H:%M}"

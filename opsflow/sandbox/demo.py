"""`opsflow demo`: a whole seminar in well under a minute, with no accounts and nothing sent.

The fake Zoom and a fake staff chat on loopback, a file outbox, a fresh database, the example job with its
registrants, a simulated attendance and survey, and a clock that jumps from each due step to the next.
The demo's copy of the example adds what the example leaves out (`DEMO_ADDITIONS`): the speakers' own
mails, the cloud recording, and two registrants who chose English. What is left behind: the outbox (.eml
files and `index.html`, the seminar as it ran, from `demo_page`), the database, and `index.png`, a
screenshot of the page when Chromium is on the machine.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsflow.core.resources import example_files

DEMO_START = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 JST, a little before the invitation
# The speakers' addresses, by the `talk` line of the example that they follow.
SPEAKER_EMAILS = {
    "加賀市におけるデジタル化の取り組みについて": "k-ono@city.kaga.lg.jp",
    "「書かない窓口」導入の一年 ― 住民と職員の声から": "m-sato@city.itoshima.lg.jp",
}
DEMO_ADDITIONS = """
# Added by `opsflow demo` to its copy of the example: the speakers' mails and the cloud recording.
[speakers]
rehearsal = "start - 7d @ 17:00"          # the rehearsal itself; its notice goes at rehearsal_notice_at
rehearsal_notice_at = "start - 14d @ 11:00"
materials_due = "start - 3bd @ 17:00"     # slides due; the reminder goes at materials_remind_at

[recording]
at = "end + 30m"
until = "end + 3h"
"""
ENGLISH_ROWS = 2  # registrants (the last of the CSV) who chose English in its 言語 column


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
    page: Path
    screenshot: Path | None  # None when Chromium is not there (or failed); the demo said why


def run_demo(folder: Path, echo: Callable[[str], None] = print, *, screenshot: bool = True) -> DemoResult:
    """Run the example seminar from planning to the last summary; everything lands in `folder`: the outbox
    with its `index.html`, the database, and (with `screenshot` and Chromium) `index.png`."""
    from opsflow import store as db
    from opsflow.core.apply import apply_events
    from opsflow.core.config import Secret, Settings
    from opsflow.core.jobspec import load_jobs
    from opsflow.core.runner import RunContext, run_due
    from opsflow.sandbox.browser import screenshot_page
    from opsflow.sandbox.chat import FakeChat
    from opsflow.sandbox.demo_page import write_page
    from opsflow.sandbox.zoom import FakeZoom
    from opsflow.store import open_store
    from opsflow.zoom import Credentials, Zoom
    from opsflow.zoom.meeting import sync_after_apply

    jobs, outbox = _fresh_folder(folder)
    clock = DemoClock(DEMO_START)
    with FakeZoom(clock=clock.now) as fake, FakeChat() as chat:
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
            staff_webhook_url=Secret(chat.hook("slack")),
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
        posts = [post.get("text", "") for post in chat.messages()]
        page = write_page(store, event.id, outbox, chat_posts=posts)
        store.dispose()
    echo(f"\npage: {page} (the timeline, a sample of each mail, the staff summary, every message)")
    shot = None
    if screenshot:
        taken = screenshot_page(page, folder / "index.png")
        shot = taken.path
        echo(f"screenshot: {shot}" if shot else f"screenshot: skipped, {taken.skipped}")
    count = len(list(outbox.glob("*.eml")))
    return DemoResult(folder, outbox, count, steps_run, page, shot)


def _fresh_folder(folder: Path) -> tuple[Path, Path]:
    jobs, outbox = folder / "jobs", folder / "outbox"
    for path in (jobs, outbox):
        shutil.rmtree(path, ignore_errors=True)
    for name in ("opsflow.db", "index.png"):
        (folder / name).unlink(missing_ok=True)
    (jobs / "registrants").mkdir(parents=True)
    outbox.mkdir()
    job, csv = example_files()
    (jobs / job.name).write_text(demo_job(job.read_text(encoding="utf-8")), encoding="utf-8")
    (jobs / "registrants" / csv.name).write_text(demo_registrants(csv.read_text(encoding="utf-8-sig")),
                                                 encoding="utf-8-sig")  # fmt: skip
    return jobs, outbox


def demo_job(text: str) -> str:
    """The example job with each speaker's email after their talk, and `DEMO_ADDITIONS` at the end."""
    for talk, email in SPEAKER_EMAILS.items():
        line = f'talk = "{talk}"\n'
        if line not in text:
            raise RuntimeError(f"the example job no longer has the talk {talk!r}: update SPEAKER_EMAILS")
        text = text.replace(line, f'{line}email = "{email}"\n')
    return text + DEMO_ADDITIONS


def demo_registrants(text: str) -> str:
    """The example registrants with a 言語 column: the last `ENGLISH_ROWS` chose English, the others left
    it blank (the seminar's Japanese)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], "言語"])
    people = rows[1:]
    for n, row in enumerate(people):
        writer.writerow([*row, "English" if n >= len(people) - ENGLISH_ROWS else ""])
    return out.getvalue()


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


def _local(event, moment: datetime) -> str:
    local = moment.astimezone(event.tz)
    return f"{local:%Y-%m-%d %a %H:%M}"

"""The seminar's cloud recording as organizers meet it: `[recording]` in the job file, `opsflow run-due` after the
event against the fake Zoom (processing for a while, never recorded, slow, repeating a file row) and a loopback
SMTP server; the survey, the follow-up and the survey reminder carry the link; `opsflow recording fetch|show`.
SQLite, and PostgreSQL when OPSFLOW_TEST_DATABASE_URL is set."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsflow import store as db
from opsflow.core.config import Settings
from opsflow.core.jobspec import RecordingSection, load_job
from opsflow.mail.context import sample_context
from opsflow.mail.render import renderer_for
from opsflow.sandbox.zoom import FakeZoom
from opsflow.store import open_store

from .conftest import EXAMPLE_JOB, REPO
from .test_cli import run  # noqa: F401  (the `run` fixture: the CLI in-process)

JST = timezone(timedelta(hours=9))
START = datetime(2027, 1, 21, 18, 0, tzinfo=JST)
END = START + timedelta(minutes=90)
STAFF = "seminar-staff@example.jp"
RECORDING = """
[recording]
at = "end + 30m"
until = "end + 3h"
survey_waits = true
"""


def jst(text: str) -> datetime:
    return datetime.fromisoformat(f"2027-01-21T{text}:00+09:00")


@pytest.fixture
def fake_zoom(clock):
    """As conftest's, with the recording made 75 minutes after the end (a 90-minute seminar's is about that)."""
    from . import zoomspec

    with FakeZoom(clock=clock.now, recording_delay=timedelta(minutes=75)) as fake:
        yield fake
    if zoomspec.spec_path() is None:
        return
    problems = [p for exchange in fake.recorded for p in zoomspec.check_exchange(exchange)]
    assert problems == [], "requests or responses that Zoom's OpenAPI document does not allow:\n" + "\n".join(problems)


@pytest.fixture
def job(example_jobs: Path) -> Path:
    """The example seminar with its survey an hour after the end, and [recording]."""
    text = example_jobs.read_text(encoding="utf-8").replace('at = "end + 1bd @ 10:00"', 'at = "end + 1h"')
    example_jobs.write_text(text + RECORDING, encoding="utf-8")
    return example_jobs


def environment(db_url: str, jobs: Path, zoom: FakeZoom, smtp_url: str) -> dict[str, str]:
    return {"OPSFLOW_DATABASE_URL": db_url, "OPSFLOW_JOBS_DIR": str(jobs), "OPSFLOW_ZOOM_ACCOUNT_ID": zoom.account_id,
            "OPSFLOW_ZOOM_CLIENT_ID": zoom.client_id, "OPSFLOW_ZOOM_CLIENT_SECRET": zoom.client_secret,
            "OPSFLOW_ZOOM_API_URL": zoom.api_url, "OPSFLOW_ZOOM_OAUTH_URL": zoom.oauth_url,
            "OPSFLOW_SMTP_URL": smtp_url, "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
            "OPSFLOW_ORGANIZER": "パブリテックセミナー事務局"}


@pytest.fixture
def env(db_url, job, fake_zoom, smtp_sink) -> dict[str, str]:
    return environment(db_url, job.parent, fake_zoom, smtp_sink.url)


def run_due(run, env: dict, when: datetime, clock=None):  # noqa: F811
    if clock is not None:
        clock.wall = when.astimezone(UTC)
    return run("run-due", "--now", when.isoformat(), env=env)


def held(run, env, fake_zoom, clock, *, is_recorded: bool | None = None, attendees: int = 10) -> int:  # noqa: F811
    """Invitation and reminders sent before the start, then the seminar held (the first ten attend);
    returns the meeting id."""
    before = run_due(run, env, START - timedelta(minutes=30), clock)
    assert before.exit_code == 0, before.output
    (meeting_id,) = fake_zoom.meetings
    people = fake_zoom.registrants(meeting_id)[:attendees]
    clock.wall = END.astimezone(UTC)
    fake_zoom.end_meeting(
        meeting_id,
        ended_at=END,
        is_recorded=is_recorded,
        participants=[{"name": p["last_name"], "user_email": p["email"], "registrant_id": p["id"],
                       "join_time": START, "leave_time": END} for p in people],
    )
    return meeting_id


def survey_mails(sink) -> tuple[list, list]:
    """(survey mails to attendees, follow-ups to absentees), parsed."""
    messages = [r.message() for r in sink.received]
    return ([m for m in messages if "このたびは下記セミナーにご参加いただき" in text(m)],
            [m for m in messages if "当日はお目にかかることができず" in text(m)])


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def alerts(sink) -> list:
    """The staff alerts about the recording step."""
    return [m for m in sink.to(STAFF) if m["Subject"].startswith("【要対応】recording.fetch")]


def steps(db_url: str) -> dict[str, str]:
    store = open_store(db_url)
    try:
        with store.read() as conn:
            return {s["key"]: s["state"] for s in db.list_steps(conn, ["example-seminar"])}
    finally:
        store.dispose()


# -- the recording processing for a while, then carried by every mail after the event ------------------


def test_the_survey_waits_for_the_recording_and_every_mail_after_carries_it(run, env, fake_zoom, smtp_sink, clock,
                                                                            db_url):  # noqa: F811
    meeting_id = held(run, env, fake_zoom, clock)
    assert fake_zoom.meetings[meeting_id]["settings"]["auto_recording"] == "cloud"
    path = f"/v2/meetings/{meeting_id}/recordings"

    first = run_due(run, env, END + timedelta(minutes=30), clock)  # Zoom processes it until END + 75m
    assert first.exit_code == 0, first.output
    assert (f"example-seminar: recording.fetch retry (waits for Zoom's recording: Zoom is still processing the "
            f"recording of meeting {meeting_id} (0 of 2 files made)); will be tried again at 2027-01-21 20:02:0"
            ) in first.stdout  # two minutes on (and the second or so the run took)
    early = run("recording", "show", "example-seminar", "--json", env=env)
    assert json.loads(early.stdout)["url"] is None and json.loads(early.stdout)["step"]["state"] == "planned"

    waiting = run_due(run, env, jst("20:03"), clock)  # still processing: retried again, 4 minutes on
    assert "recording.fetch retry" in waiting.stdout and "will be tried again at 2027-01-21 20:07:0" in waiting.stdout
    survey_time = run_due(run, env, jst("20:30"), clock)  # the survey is due, the recording not stored yet
    assert "example-seminar: survey.send waiting (waits for recording.fetch)" in survey_time.stdout.splitlines()
    assert survey_mails(smtp_sink)[0] == []

    still = run_due(run, env, jst("20:39"), clock)  # Zoom finishes at 20:45
    assert "recording.fetch retry" in still.stdout and "will be tried again at 2027-01-21 20:55:0" in still.stdout
    done = run_due(run, env, jst("20:56"), clock)
    assert done.exit_code == 0, done.output
    assert steps(db_url)["recording.fetch"] == "done" and steps(db_url)["survey.send"] == "done"
    shown = json.loads(run("recording", "show", "example-seminar", "--json", env=env).stdout)
    share = fake_zoom.count("GET", path)
    assert shown["url"].startswith("https://zoom.us/rec/share/") and "?pwd=" in shown["url"]
    assert shown["passcode"] and shown["fetched_at"] == "2027-01-21T11:56:00+00:00"

    surveys, followups = survey_mails(smtp_sink)
    assert len(surveys) == 10 and len(followups) == 30
    for message in surveys + followups:
        body = text(message)
        assert f"■ 当日の録画\n{shown['url']}\n" in body
        assert "パスコード" not in body  # the link carries it
        html = message.get_body(("html",)).get_content()
        assert f'<a href="{shown["url"]}">' in html
    assert all(m["Subject"].startswith("【録画のご案内】") for m in followups)

    again = run_due(run, env, jst("21:00"), clock)
    assert again.exit_code == 0 and fake_zoom.count("GET", path) == share  # stored: Zoom is not asked again
    by_hand = run("recording", "fetch", "example-seminar", env=env)
    assert by_hand.stdout.splitlines()[0] == (
        "example-seminar: the recording's link is stored already (--force asks Zoom again)")
    assert fake_zoom.count("GET", path) == share
    forced = run("recording", "fetch", "example-seminar", "--force", "--dry-run", "--json", env=env)
    assert json.loads(forced.stdout)["action"] == "would-store" and fake_zoom.count("GET", path) == share + 1
    surveys, followups = survey_mails(smtp_sink)
    assert (len(surveys), len(followups)) == (10, 30)  # each person once, however often it ran
    assert len({m["To"] for m in surveys + followups}) == 40

    # the survey reminder, three business days on, to attendees who have not answered: the link again
    reminder = run_due(run, env, datetime(2027, 1, 26, 10, 0, tzinfo=JST), clock)
    assert reminder.exit_code == 0, reminder.output
    reminders = [r.message() for r in smtp_sink.received if r.message()["Subject"].startswith("【再送")]
    assert len(reminders) == 10 and all(f"■ 当日の録画\n{shown['url']}\n" in text(m) for m in reminders)


# -- no recording by the deadline --------------------------------------------------------------------------


def test_no_recording_by_the_deadline_is_missed_alerted_once_and_the_survey_goes(run, env, fake_zoom, smtp_sink,
                                                                                 clock, db_url):  # noqa: F811
    meeting_id = held(run, env, fake_zoom, clock, is_recorded=False)  # the host stopped the recording
    first = run_due(run, env, END + timedelta(minutes=30), clock)
    assert first.exit_code == 0
    assert (f"recording.fetch retry (waits for Zoom's recording: Zoom has no recording of meeting {meeting_id} yet"
            in first.stdout)
    late = run_due(run, env, jst("22:30"), clock)  # recording.until: the last look
    assert late.exit_code == 1, late.output
    missed = next(line for line in late.stdout.splitlines() if "recording.fetch" in line)
    assert missed.startswith("example-seminar: recording.fetch missed (no recording by 2027-01-21 22:30 JST "
                             f"(recording.until): Zoom has no recording of meeting {meeting_id} yet")
    assert "`opsflow recording fetch example-seminar`" in missed
    assert steps(db_url)["recording.fetch"] == "missed" and steps(db_url)["survey.send"] == "done"
    surveys, followups = survey_mails(smtp_sink)
    assert len(surveys) == 10 and len(followups) == 30
    assert not any("録画" in text(m) for m in surveys + followups)
    staff = alerts(smtp_sink)
    assert len(staff) == 1 and "opsflow recording fetch example-seminar" in text(staff[0])

    quiet = run_due(run, env, jst("23:30"), clock)
    assert quiet.exit_code == 0 and len(alerts(smtp_sink)) == 1
    by_hand = run("recording", "fetch", "example-seminar", env=env)
    assert by_hand.exit_code == 1 and by_hand.stderr.startswith(
        f"Error: Zoom has no recording of meeting {meeting_id} yet")


def test_the_retries_end_at_the_last_look(run, env, fake_zoom, smtp_sink, clock, db_url):  # noqa: F811
    held(run, env, fake_zoom, clock, is_recorded=False)
    when = END + timedelta(minutes=30)
    looks = []
    while when < END + timedelta(hours=4) and len(looks) < 20:
        result = run_due(run, env, when, clock)
        line = next((x for x in result.stdout.splitlines() if "recording.fetch" in x), None)
        if line is not None:
            looks.append(when.strftime("%H:%M"))
        state = steps(db_url)["recording.fetch"]
        if state == "missed":
            break
        store = open_store(env["OPSFLOW_DATABASE_URL"])
        with store.read() as conn:
            when = db.get_step(conn, "example-seminar", "recording.fetch")["retry_at"].astimezone(JST)
        store.dispose()
    # backing off 2, 4, 8, 16, 32, 60 minutes, and the last look exactly at `until` (end + 3h), not after it
    assert looks == ["20:00", "20:02", "20:06", "20:14", "20:30", "21:02", "22:02", "22:30"]


# -- several runners, a slow Zoom, a repeated file row --------------------------------------------------------


@pytest.mark.parametrize("count", [3])
def test_runners_at_once_against_a_slow_zoom_fetch_once_and_mail_once(count, db_url, job, tmp_path, smtp_sink):
    now = {"t": (START - timedelta(minutes=30)).astimezone(UTC)}
    with FakeZoom(clock=lambda: now["t"], recording_delay=timedelta(minutes=20)) as zoom:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")},
               **environment(db_url, job.parent, zoom, smtp_sink.url)}

        def opsflow(when: datetime, n: int = 1) -> list[subprocess.CompletedProcess]:
            now["t"] = when.astimezone(UTC)
            procs = [subprocess.Popen([sys.executable, "-m", "opsflow", "run-due", "--now", when.isoformat()],
                                      env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(n)]
            out = []
            for proc in procs:
                stdout, stderr = proc.communicate(timeout=180)
                out.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
            return out

        (before,) = opsflow(START - timedelta(minutes=30))
        assert before.returncode == 0, before.stderr
        (meeting_id,) = zoom.meetings
        people = zoom.registrants(meeting_id)[:10]
        zoom.end_meeting(meeting_id, ended_at=END, participants=[
            {"name": p["last_name"], "user_email": p["email"], "registrant_id": p["id"], "join_time": START,
             "leave_time": END} for p in people])
        zoom.quirks.slow_answers = 0.5  # every answer half a second late: the runners overlap
        zoom.quirks.duplicate_rows = True  # and the recording's first file listed twice
        runs = opsflow(END + timedelta(minutes=60), count)  # report, recording and survey all due
        assert [r.returncode for r in runs] == [0] * count, [r.stdout + r.stderr for r in runs]
        assert zoom.count("GET", f"/v2/meetings/{meeting_id}/recordings") == 1
        done = [line for r in runs for line in r.stdout.splitlines() if "recording.fetch done" in line]
        assert len(done) == 1
    surveys, followups = survey_mails(smtp_sink)
    assert Counter(m["To"] for m in surveys + followups).most_common(1)[0][1] == 1
    assert (len(surveys), len(followups)) == (10, 30)
    store = open_store(db_url)
    with store.read() as conn:
        meeting = db.get_zoom_meeting(conn, "example-seminar")
    store.dispose()
    assert all(f"{meeting['recording_url']}\n" in text(m) for m in surveys + followups)


def test_two_fetches_at_once_keep_the_first_link(run, env, fake_zoom, smtp_sink, clock, tmp_path):  # noqa: F811
    meeting_id = held(run, env, fake_zoom, clock)
    clock.wall = (END + timedelta(hours=2)).astimezone(UTC)
    fake_zoom.quirks.slow_answers = 0.5  # both ask before either stores
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}, **env}
    procs = [subprocess.Popen([sys.executable, "-m", "opsflow", "recording", "fetch", "example-seminar", "--json"],
                              env=full, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert fake_zoom.count("GET", f"/v2/meetings/{meeting_id}/recordings") == 2
    answers = [json.loads(stdout) for stdout, _ in outputs]
    assert sorted(a["action"] for a in answers) == ["exists", "stored"]
    assert len({a["url"] for a in answers}) == 1


def test_a_repeated_file_row_is_listed_once(run, env, fake_zoom, smtp_sink, clock):  # noqa: F811
    held(run, env, fake_zoom, clock)
    clock.wall = (END + timedelta(hours=2)).astimezone(UTC)
    fake_zoom.quirks.duplicate_rows = True
    fetched = run("recording", "fetch", "example-seminar", env=env)
    assert fetched.exit_code == 0, fetched.output
    files = [line for line in fetched.stdout.splitlines() if line.startswith("  file")]
    assert [f.split()[1] for f in files] == ["MP4", "M4A"]


# -- the meeting is recorded; commands; mails -------------------------------------------------------------


def test_a_webinar_is_created_recorded_and_a_seminar_without_recording_is_not(run, write_job, fake_zoom,
                                                                              tmp_path):  # noqa: F811
    env = {"OPSFLOW_ZOOM_ACCOUNT_ID": fake_zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": fake_zoom.client_id,
           "OPSFLOW_ZOOM_CLIENT_SECRET": fake_zoom.client_secret, "OPSFLOW_ZOOM_API_URL": fake_zoom.api_url,
           "OPSFLOW_ZOOM_OAUTH_URL": fake_zoom.oauth_url}
    base = ('[event]\nid = "{id}"\ntitle = "録画つきウェビナー"\nstart = 2027-01-21T18:00:00+09:00\nduration = "90m"\n'
            '[zoom]\nkind = "{kind}"\n')
    write_job(base.format(id="web", kind="webinar") + RECORDING, "web.toml")
    write_job(base.format(id="plain", kind="meeting"), "plain.toml")
    assert run("apply", "--now", "2026-11-26T09:00:00+09:00").exit_code == 0
    assert run("zoom", "create", "web", env=env).exit_code == 0
    assert run("zoom", "create", "plain", env=env).exit_code == 0
    (webinar,) = fake_zoom.webinars.values()
    (meeting,) = fake_zoom.meetings.values()
    assert (webinar["settings"]["auto_recording"], meeting["settings"]["auto_recording"]) == ("cloud", "none")
    sent = [json.loads(r.body) for r in fake_zoom.recorded if r.method == "POST" and r.path.endswith("/meetings")]
    assert "auto_recording" not in sent[0]["settings"]


def test_show_and_fetch_name_what_is_wrong(run, env, fake_zoom, smtp_sink, clock):  # noqa: F811
    unknown = run("recording", "show", "nope", env=env)
    assert (unknown.exit_code, unknown.stderr) == (
        2, "Error: no event 'nope' in the database: check the id, or run `opsflow apply`\n")
    assert run("apply", "--now", "2026-11-26T09:00:00+09:00", env=env).exit_code == 0
    before = run("recording", "fetch", "example-seminar", env=env)
    assert (before.exit_code, before.stderr) == (2, (
        "Error: example-seminar has no Zoom meeting: there is no recording to fetch (see `opsflow zoom show "
        "example-seminar`)\n"))
    shown = run("recording", "show", "example-seminar", env=env)
    assert shown.stdout.splitlines() == ["example-seminar: no recording link stored yet",
                                         "  step       recording.fetch planned"]


def test_a_recording_url_typed_in_the_job_file_wins(run, env, fake_zoom, smtp_sink, clock, job):  # noqa: F811
    job.write_text(job.read_text(encoding="utf-8").replace(
        "[survey]\n", '[survey]\nrecording_url = "https://video.example.jp/vol3"\n'), encoding="utf-8")
    held(run, env, fake_zoom, clock)
    result = run_due(run, env, END + timedelta(hours=2), clock)
    assert result.exit_code == 0, result.output
    surveys, followups = survey_mails(smtp_sink)
    assert len(surveys) == 10
    assert all("■ 当日の録画\nhttps://video.example.jp/vol3\n" in text(m) for m in surveys + followups)
    assert not any("zoom.us/rec" in text(m) for m in surveys + followups)


# -- snapshots of the three mails with a recording -------------------------------------------------------------

SNAPSHOTS = REPO / "tests" / "snapshots" / "recording"
SETTINGS = Settings(organizer="パブリテックセミナー事務局", organizer_contact="seminar@example.jp / 03-1234-5678")


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("kind", ["survey", "followup", "survey_reminder"])
def test_the_mails_with_a_recording_match_their_snapshots(kind, language):
    event = load_job(EXAMPLE_JOB)
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language}),
                                         "recording": RecordingSection()})
    event = dataclasses.replace(event, spec=spec)
    rendered = renderer_for(language).render(kind, sample_context(kind, event, SETTINGS))
    assert "https://zoom.us/rec/share/SAMPLE" in rendered.text and "Ab1+x2Yz" in rendered.text
    text_ = f"Subject: {rendered.subject}\n\n{rendered.text}"
    for suffix, actual in ((".txt", text_), (".html", rendered.html)):
        path = SNAPSHOTS / language / f"{kind}{suffix}"
        if os.environ.get("OPSFLOW_UPDATE_SNAPSHOTS"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path}: run with OPSFLOW_UPDATE_SNAPSHOTS=1 once and review it"
        assert actual == path.read_text(encoding="utf-8"), f"{path} differs from the rendered mail"


def test_doctor_checks_the_recording_scope(run, env):  # noqa: F811
    result = run("doctor", "--json", env=env)
    (zoom,) = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "zoom"]
    assert zoom["status"] == "ok" and "recording:read" in zoom["detail"]

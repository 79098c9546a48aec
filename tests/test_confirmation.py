"""The registration confirmation (受付完了) as an organizer meets it: the example seminar applied with its CSV,
`opsflow run-due` as cron runs it (in-process, and as several processes at once), a fake Zoom over HTTP and
a real SMTP server on loopback, on SQLite and PostgreSQL. Everyone newly seen gets one 受付完了 with their
own link and an .ics; nobody gets two; nobody registered before it was planned, and nobody who registers
after the invitation went out, gets one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsflow import store as db
from opsflow.sandbox.zoom import FakeZoom
from opsflow.store import open_store

from .smtp_sink import SmtpSink
from .test_cli import run  # noqa: F401  (the `run` fixture: the CLI in-process)

JST = timezone(timedelta(hours=9))
APPLIED = datetime(2026, 11, 26, 9, 0, tzinfo=JST)  # weeks before the invitation (due 2027-01-07 10:00)
INVITED = datetime(2027, 1, 7, 10, 0, tzinfo=JST)
CONFIRMED, INVITATION = "【受付完了】", "【ご案内】"
PEOPLE = 40  # in the example's CSV
LATE_ROW = "2027/01/09 09:12:00,遅野　登録,オソノ トウロク,late@city.example.lg.jp,架空市,総務課,主事,オンライン参加,\n"


@pytest.fixture
def zoom_server():
    """A fake Zoom whose clock stands at the day the seminar is applied (its meeting is upcoming)."""
    with FakeZoom(clock=lambda: APPLIED.astimezone(UTC)) as fake:
        yield fake


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def env(db_url, tmp_path, zoom_server, sink) -> dict[str, str]:
    """The settings of a seminars folder (tmp_path/jobs: the example when a test asks for `example_jobs`)."""
    return {
        "OPSFLOW_DATABASE_URL": db_url,
        "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs"),
        "OPSFLOW_ZOOM_ACCOUNT_ID": zoom_server.account_id,
        "OPSFLOW_ZOOM_CLIENT_ID": zoom_server.client_id,
        "OPSFLOW_ZOOM_CLIENT_SECRET": zoom_server.client_secret,
        "OPSFLOW_ZOOM_API_URL": zoom_server.api_url,
        "OPSFLOW_ZOOM_OAUTH_URL": zoom_server.oauth_url,
        "OPSFLOW_SMTP_URL": sink.url,
        "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
        "OPSFLOW_ORGANIZER": "パブリテックセミナー事務局",
        "OPSFLOW_ORGANIZER_CONTACT": "seminar@example.jp / 03-1234-5678",
    }


def run_due(run, env, when: datetime):  # noqa: F811
    result = run("run-due", "--now", when.isoformat(), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def messages(sink: SmtpSink, subject_start: str) -> dict[str, list]:
    """recipient -> the messages they got whose subject starts so."""
    out: dict[str, list] = {}
    for received in sink.received:
        message = received.message()
        if message["Subject"].startswith(subject_start):
            out.setdefault(received.recipients[0], []).append(message)
    return out


def ics_of(message) -> str:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()


def unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "").replace("\n ", "")


def step_state(db_url: str, key: str, event_id: str = "example-seminar") -> str | None:
    store = open_store(db_url)
    try:
        with store.read() as conn:
            step = db.get_step(conn, event_id, key)
        return step["state"] if step else None
    finally:
        store.dispose()


def append_row(example_jobs: Path, row: str = LATE_ROW) -> None:
    csv = example_jobs.parent / "registrants" / "example-seminar.csv"
    with csv.open("a", encoding="utf-8") as out:  # a new export of the form: one more person
        out.write(row)


# --- everyone newly seen, once ---------------------------------------------------------------------------


def test_every_registrant_is_confirmed_once_with_their_own_link_and_an_ics(  # noqa: F811
    run, env, example_jobs, zoom_server, sink  # noqa: F811
):
    applied = run("apply", "--now", APPLIED.isoformat(), env=env)
    assert applied.stdout == "example-seminar: new event, 11 steps planned\n"
    lines = run_due(run, env, APPLIED)
    assert "example-seminar: mail.confirmation done (40 sent)" in lines

    confirmed = messages(sink, CONFIRMED)
    assert len(confirmed) == PEOPLE and all(len(m) == 1 for m in confirmed.values())
    assert len(sink.received) == PEOPLE  # the 受付完了 and nothing else: the invitation is weeks away
    (meeting_id,) = zoom_server.meetings
    own = {r["email"].lower(): r["join_url"] for r in zoom_server.registrants(meeting_id)}
    for person, (message,) in confirmed.items():
        text = message.get_body(("plain",)).get_content()
        assert own[person] in text.splitlines(), "their own link, written out on a line of its own"
        assert "※お申し込みいただいた方専用のURLです。転送はご遠慮ください。" in text
        assert message["Subject"] == (
            "【受付完了】パブリテックセミナー vol.3「自治体DXの現場から ― 窓口改革とデータ活用」"
            "（2027年1月21日(木) 18:00〜19:30）"
        )
        assert "以下の内容で、お申し込みを受け付けました。" in text
        assert "・2027年1月7日(木)10:00　開催のご案内（参加URL等）" in text  # what follows, and when
        assert "・2027年1月21日(木)17:00　リマインド" in text
        assert "このメールにご返信いただくか、下記の連絡先までお知らせください。" in text  # how to cancel
        ics = unfolded(ics_of(message))
        assert f"URL:{own[person]}" in ics and "UID:example-seminar@opsflow" in ics and "SEQUENCE:0" in ics

    assert run_due(run, env, APPLIED + timedelta(minutes=1)) == []  # the next cron minute: nothing
    again = run("send", "example-seminar", "confirmation", "--dry-run", env=env)
    assert again.stdout.splitlines() == ["(dry run) example-seminar: mail.confirmation would go to 0 people "
                                         "(40 already had it)"]
    assert len(sink.received) == PEOPLE


def test_a_new_row_in_the_csv_is_confirmed_alone_at_the_next_run(run, env, example_jobs, sink):  # noqa: F811
    run_due(run, env, APPLIED)
    assert len(messages(sink, CONFIRMED)) == PEOPLE
    append_row(example_jobs)
    lines = run_due(run, env, APPLIED + timedelta(days=1))
    assert "example-seminar: registrants.sync done (1 added, 0 cancelled; 1 registered with Zoom)" in lines
    assert "example-seminar: mail.confirmation done (1 sent)" in lines
    confirmed = messages(sink, CONFIRMED)
    assert len(confirmed) == PEOPLE + 1 and all(len(m) == 1 for m in confirmed.values())
    assert "zoom.us" in confirmed["late@city.example.lg.jp"][0].get_body(("plain",)).get_content()
    assert messages(sink, INVITATION) == {}  # the invitation is still to come, for everyone at once
    assert run_due(run, env, APPLIED + timedelta(days=1, minutes=1)) == []
    by_hand = run("send", "example-seminar", "confirmation", "--json", env=env)  # by hand: nothing left to send
    assert by_hand.exit_code == 0, by_hand.output
    data = json.loads(by_hand.stdout)
    assert (data["message"], data["sent"], data["already_sent"]) == ("mail.confirmation", [], PEOPLE + 1)
    assert len(sink.received) == PEOPLE + 1


def test_who_registers_after_the_invitation_went_gets_the_invitation_alone(run, env, example_jobs, sink):  # noqa: F811
    run_due(run, env, APPLIED)
    run_due(run, env, INVITED)
    assert len(messages(sink, INVITATION)) == PEOPLE
    append_row(example_jobs)
    lines = run_due(run, env, INVITED + timedelta(days=2))
    assert "example-seminar: mail.invitation done (1 sent)" in lines
    assert not any("mail.confirmation" in line for line in lines)  # not even run again: the invitation says all
    assert list(messages(sink, INVITATION)["late@city.example.lg.jp"]) != []
    assert "late@city.example.lg.jp" not in messages(sink, CONFIRMED)
    assert all(len(m) == 1 for m in messages(sink, CONFIRMED).values())

    by_hand = run("send", "example-seminar", "confirmation", "--to", "late@city.example.lg.jp", env=env)
    assert by_hand.exit_code != 0
    assert by_hand.stderr == (
        "Error: late@city.example.lg.jp does not get mail.confirmation of example-seminar (not an active "
        "registrant, registered before the confirmation was planned, or the invitation has gone out)\n"
    )


def test_a_seminar_set_up_after_its_invitation_was_due_sends_the_invitation_alone(run, env, example_jobs,  # noqa: F811
                                                                                   sink):
    lines = run_due(run, env, INVITED + timedelta(days=1))  # cron finds the new job file a day late
    assert "example-seminar: mail.invitation done (40 sent)" in lines
    assert "example-seminar: mail.confirmation done (0 sent)" in lines  # whichever of the two ran first
    assert messages(sink, CONFIRMED) == {} and len(messages(sink, INVITATION)) == PEOPLE


def test_people_who_register_on_zooms_own_page_are_confirmed(run, env, write_job, zoom_server, sink):  # noqa: F811
    write_job("""\
        [event]
        id = "zoom-only"
        title = "テストセミナー"
        start = 2027-01-21T18:00:00+09:00
        duration = "90m"

        [zoom]
        registration = true
        """)
    assert run("apply", "--now", APPLIED.isoformat(), env=env).exit_code == 0
    assert run("zoom", "create", "zoom-only", env=env).exit_code == 0
    (meeting_id,) = zoom_server.meetings
    kind = zoom_server._state.kind_of(meeting_id)
    for address, name in (("walk.in@city.example.lg.jp", "窓口"), ("web@town.example.lg.jp", "申込")):
        zoom_server._state.add_registrant(kind, str(meeting_id), {"email": address, "first_name": "太郎",
                                                                   "last_name": name})
    lines = run_due(run, env, APPLIED)
    assert "zoom-only: mail.confirmation done (2 sent)" in lines
    own = {r["email"].lower(): r["join_url"] for r in zoom_server.registrants(meeting_id)}
    confirmed = messages(sink, CONFIRMED)
    assert set(confirmed) == {"walk.in@city.example.lg.jp", "web@town.example.lg.jp"}
    for person, (message,) in confirmed.items():
        assert own[person] in message.get_body(("plain",)).get_content().splitlines()

    # one more on Zoom's page, seen when the registrants are synced (here by hand, now): confirmed alone at
    # the next run
    zoom_server._state.add_registrant(kind, str(meeting_id), {"email": "third@city.example.lg.jp",
                                                               "first_name": "花子", "last_name": "三番"})
    synced = run("registrants", "sync", "zoom-only", env=env)
    assert synced.exit_code == 0, synced.output
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert later < INVITED
    assert "zoom-only: mail.confirmation done (1 sent)" in run_due(run, env, later)
    assert set(messages(sink, CONFIRMED)) == {*confirmed, "third@city.example.lg.jp"}
    assert all(len(m) == 1 for m in messages(sink, CONFIRMED).values())


# --- when there is none ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "planned"),
    [
        (("registration = true", "registration = true\nzoom_emails = true"), False),  # Zoom sends its own
        (('language = "ja"', 'language = "ja"\nconfirmation = false'), False),  # turned off
        (('language = "ja"', 'language = "ja"\nconfirmation = true'), True),  # the default, said out loud
    ],
)
def test_the_job_file_decides_whether_there_is_a_confirmation(run, env, example_jobs, sink, change, planned):  # noqa: F811
    text = example_jobs.read_text(encoding="utf-8")
    assert change[0] in text
    example_jobs.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    keys = [s["key"] for s in json.loads(run("plan", "--json", env=env).stdout)["events"][0]["steps"]]
    assert ("mail.confirmation" in keys) is planned
    lines = run_due(run, env, APPLIED)
    assert any("mail.confirmation done (40 sent)" in line for line in lines) is planned
    assert len(messages(sink, CONFIRMED)) == (PEOPLE if planned else 0)
    assert step_state(env["OPSFLOW_DATABASE_URL"], "mail.confirmation") == ("done" if planned else None)


def test_switched_on_later_it_confirms_only_the_people_who_come_after(run, env, example_jobs, sink):  # noqa: F811
    text = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(text.replace('language = "ja"', 'language = "ja"\nconfirmation = false'), encoding="utf-8")
    run_due(run, env, APPLIED)
    assert messages(sink, CONFIRMED) == {}
    example_jobs.write_text(text, encoding="utf-8")  # on again (the default): 40 people registered weeks ago
    lines = run_due(run, env, APPLIED + timedelta(days=3))
    assert "example-seminar: mail.confirmation done (0 sent)" in lines
    assert messages(sink, CONFIRMED) == {}
    append_row(example_jobs)
    assert "example-seminar: mail.confirmation done (1 sent)" in run_due(run, env, APPLIED + timedelta(days=4))
    assert list(messages(sink, CONFIRMED)) == ["late@city.example.lg.jp"]


def test_without_zoom_the_confirmation_says_the_link_follows(run, env, write_job, tmp_path, sink):  # noqa: F811
    from .faults import write_registrants

    people = write_registrants(tmp_path / "jobs" / "people.csv", 3)
    write_job("""\
        [event]
        id = "no-zoom"
        title = "テストセミナー"
        start = 2027-01-21T18:00:00+09:00
        duration = "90m"

        [registrants]
        csv = "people.csv"
        """)
    assert "no-zoom: mail.confirmation done (3 sent)" in run_due(run, env, APPLIED)
    confirmed = messages(sink, CONFIRMED)
    assert sorted(confirmed) == sorted(people)
    for (message,) in confirmed.values():
        text = message.get_body(("plain",)).get_content()
        assert "参加用のURLは、開催のご案内メールにてお送りいたします。" in text and "zoom.us" not in text
        assert "DTSTART" in ics_of(message)
    preview = run("preview", "no-zoom", "confirmation", env=env)
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.startswith("Subject: 【受付完了】テストセミナー（2027年1月21日(木) 18:00〜19:30）\n")


# --- several runners at once ---------------------------------------------------------------------------------


def test_runners_at_once_confirm_each_person_once(db_url, tmp_path, env, example_jobs, sink):
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}, **env}
    cli = [sys.executable, "-m", "opsflow"]
    applied = subprocess.run([*cli, "apply", "--now", APPLIED.isoformat()], env=full_env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120, check=False)
    assert applied.returncode == 0, applied.stderr
    append_row(example_jobs)  # and one more person, so that the CSV is read again while they run
    procs = [subprocess.Popen([*cli, "run-due", "--now", APPLIED.isoformat()], env=full_env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [(p.returncode, err) for p, (_, err) in zip(procs, outputs, strict=True)] == [(0, "")] * 3
    confirmed = Counter(r.recipients[0] for r in sink.received if r.message()["Subject"].startswith(CONFIRMED))
    assert len(confirmed) == PEOPLE + 1 and set(confirmed.values()) == {1}
    done = [line for out, _ in outputs for line in out.splitlines() if "mail.confirmation done" in line]
    assert len(done) == 1, outputs
    assert step_state(db_url, "mail.confirmation") == "done"

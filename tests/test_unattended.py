"""Unattended operation as cron runs it: several `opsflow run-due` processes at once against a slow and
odd fake Zoom and a real SMTP server, on SQLite and PostgreSQL; blocked steps, a silent mail server,
refusals that stay visible, late registrants, job files edited between runs, a crontab without `cd`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsflow import store as db
from opsflow.sandbox.zoom import FakeZoom
from opsflow.store import open_store

from .conftest import NOW
from .faults import SlowSink
from .smtp_sink import SmtpSink
from .test_cli import run  # noqa: F401  (the `run` fixture: the CLI in-process)

JST = timezone(timedelta(hours=9))
INVITE_AT = datetime(2027, 1, 8, 10, 0, tzinfo=JST)  # the invitation (due 01-07 10:00) is due; no reminder yet
STAFF = "seminar-staff@example.jp"
REPEAT = int(os.environ.get("OPSFLOW_TEST_REPEAT", "10"))
EXAMPLE_PEOPLE = 40


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def zoom_server():
    """A fake Zoom whose clock stands at the invitation time (its meetings are upcoming)."""
    with FakeZoom(clock=lambda: INVITE_AT.astimezone(timezone.utc)) as fake:
        yield fake


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def settings_env(db_url: str, jobs: Path, zoom: FakeZoom, smtp_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    return {**env, "OPSFLOW_DATABASE_URL": db_url, "OPSFLOW_JOBS_DIR": str(jobs),
            "OPSFLOW_ZOOM_ACCOUNT_ID": zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": zoom.client_id,
            "OPSFLOW_ZOOM_CLIENT_SECRET": zoom.client_secret, "OPSFLOW_ZOOM_API_URL": zoom.api_url,
            "OPSFLOW_ZOOM_OAUTH_URL": zoom.oauth_url, "OPSFLOW_SMTP_URL": smtp_url,
            "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>", **extra}


def opsflow(*args: str, env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opsflow", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def runners_at_once(count: int, when: datetime, env: dict, cwd: Path) -> list[subprocess.CompletedProcess]:
    """`count` cron runs of `opsflow run-due` started together."""
    procs = [subprocess.Popen([sys.executable, "-m", "opsflow", "run-due", "--now", iso(when)], env=env, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def invitations(sink: SmtpSink) -> Counter:
    return Counter(r.recipients[0] for r in sink.received if r.message()["Subject"].startswith("【ご案内】"))


def step_states(db_url: str, event_id: str = "example-seminar") -> dict[str, str]:
    store = open_store(db_url)
    try:
        with store.read() as conn:
            return {s["key"]: s["state"] for s in db.list_steps(conn, [event_id])}
    finally:
        store.dispose()


# --- 1. several runners, a slow Zoom that lists someone twice ----------------------------------------

@pytest.mark.parametrize("trial", range(REPEAT))
@pytest.mark.parametrize("count", [4, 8])
def test_runners_at_once_make_one_meeting_and_invite_everyone_once(count, trial, db_url, tmp_path, example_jobs,
                                                                   zoom_server, sink):
    zoom_server.quirks.slow_create = 2.0  # a Zoom that takes its time to create the meeting
    zoom_server.quirks.duplicate_rows = True  # and lists a registrant twice (once in capitals)
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    applied = opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr

    first = runners_at_once(count, INVITE_AT, env, tmp_path)  # one cron minute
    second = runners_at_once(count, INVITE_AT + timedelta(minutes=1), env, tmp_path)  # and the next

    problems = [(r.returncode, r.stdout, r.stderr) for r in first + second if r.returncode != 0 or r.stderr]
    assert problems == []
    assert len(zoom_server.meetings) == 1
    invited = invitations(sink)
    assert len(invited) == EXAMPLE_PEOPLE and set(invited.values()) == {1}
    assert [r for r in sink.received if STAFF in r.recipients] == []  # no alert
    states = step_states(db_url)
    assert [states[k] for k in ("zoom.create", "registrants.sync", "mail.invitation")] == ["done"] * 3
    waited = [line for r in first for line in r.stdout.splitlines() if " waiting " in line]
    assert all("(waits for zoom.create)" in w or "(waits for registrants.sync)" in w for w in waited)


@pytest.mark.parametrize("count", [4])
def test_runners_apply_a_new_job_file_together(count, db_url, tmp_path, example_jobs, zoom_server, sink):
    """No `opsflow apply` at all: four cron runners find the new job file at the same minute."""
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    runs = runners_at_once(count, INVITE_AT, env, tmp_path)
    assert [(r.returncode, r.stderr) for r in runs] == [(0, "")] * count
    assert sum("job-file applied (new event, 11 steps planned)" in r.stdout for r in runs) == 1
    assert len(zoom_server.meetings) == 1
    assert set(invitations(sink).values()) == {1} and len(invitations(sink)) == EXAMPLE_PEOPLE


def test_two_imports_at_once_are_both_fine(db_url, tmp_path, example_jobs, zoom_server, sink):
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    procs = [subprocess.Popen([sys.executable, "-m", "opsflow", "registrants", "import", "example-seminar"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert all("Traceback" not in err and "@" not in err for _, err in outputs)
    added = sum(int(out.split(" added")[0].split()[-1]) for out, _ in outputs if " added" in out)
    assert added == EXAMPLE_PEOPLE  # each person added by exactly one of them
    store = open_store(db_url)
    with store.read() as conn:
        assert len(db.list_registrants(conn, "example-seminar")) == EXAMPLE_PEOPLE
    store.dispose()


# --- 2. a step blocked by a failed one -----------------------------------------------------------

def test_a_failed_meeting_blocks_the_mails_says_so_and_alerts_once(db_url, tmp_path, example_jobs, zoom_server,
                                                                   sink):
    zoom_server.fail_next(404, code=1001, message="User does not exist: me.", method="POST",
                          path="/v2/users/me/meetings")
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    first = opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert first.returncode == 1
    lines = first.stdout.splitlines()
    assert any(line.startswith("example-seminar: zoom.create failed (") for line in lines)
    assert ("example-seminar: registrants.sync blocked (waits for zoom.create, which failed: "
            in first.stdout)
    assert "example-seminar: mail.invitation blocked (waits for zoom.create, which failed: " in first.stdout

    for minute in (1, 2):  # every later cron minute: still non-zero, still blocked, no new alert
        again = opsflow("run-due", "--now", iso(INVITE_AT + timedelta(minutes=minute)), env=env, cwd=tmp_path)
        assert again.returncode == 1 and "mail.invitation blocked" in again.stdout
    alerts = Counter(r.message()["Subject"] for r in sink.received if STAFF in r.recipients)
    assert set(alerts.values()) == {1} and len(alerts) == 4  # the failure, and one for each step it blocks
    assert any("mail.invitation が前の処理の失敗で止まっています" in subject for subject in alerts)
    assert invitations(sink) == Counter()

    status = opsflow("status", env=env, cwd=tmp_path).stdout
    assert "  example-seminar: mail.invitation blocked: waits for zoom.create, which failed\n" in status

    fixed = opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path)  # the organizer fixes it by hand
    assert fixed.returncode == 0, fixed.stderr
    after = opsflow("run-due", "--now", iso(INVITE_AT + timedelta(minutes=3)), env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stdout
    assert len(invitations(sink)) == EXAMPLE_PEOPLE


# --- 3. Zoom answers as they really come ---------------------------------------------------------

def test_a_page_token_that_repeats_stops_with_the_endpoint_named(tmp_path, example_jobs, zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path).returncode == 0
    zoom_server.quirks.repeat_page_token = True
    started = time.monotonic()
    synced = opsflow("registrants", "sync", "example-seminar", env=env, cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 30
    assert synced.returncode == 1
    (meeting_id,) = zoom_server.meetings
    assert synced.stderr.startswith(f"Error: Zoom repeated a page token while listing GET /meetings/{meeting_id}"
                                    "/registrants after 2 pages")
    assert zoom_server.count("GET", f"/v2/meetings/{meeting_id}/registrants") == 2


def test_a_search_that_fails_after_a_lost_create_frees_the_claim(tmp_path, example_jobs, zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    zoom_server.reset_next(method="POST", path="/v2/users/me/meetings")  # the create's answer is lost
    zoom_server.fail_next(400, code=300, message="Bad request", times=1, method="GET",
                          path="/v2/users/me/meetings")  # and the search for it fails
    lost = opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path)
    assert lost.returncode == 1
    again = opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path)  # no other run exists
    assert again.returncode == 0, again.stderr
    assert "another run" not in again.stdout + again.stderr
    assert len(zoom_server.meetings) == 1  # the search found the one the lost create made


def test_zoom_listing_a_registrant_twice_syncs_through_run_due(db_url, tmp_path, example_jobs, zoom_server, sink):
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path).returncode == 0
    (meeting_id,) = zoom_server.meetings
    zoom_server._state.add_registrant(zoom_server._state.kind_of(meeting_id), str(meeting_id),
                                      {"email": "Walk.In@City.Example.lg.jp", "first_name": "太郎", "last_name": "窓口"})
    zoom_server.quirks.duplicate_rows = True
    result = opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert invitations(sink)["walk.in@city.example.lg.jp"] == 1
    assert set(invitations(sink).values()) == {1} and len(invitations(sink)) == EXAMPLE_PEOPLE + 1


def test_a_slow_zoom_list_does_not_hold_the_database(tmp_path, example_jobs, zoom_server, sink):
    import sqlite3

    from opsflow.registrants import sync_zoom

    from .conftest import VirtualClock  # noqa: F401  (the client below uses real time)

    db_path = tmp_path / "opsflow.db"
    env = settings_env(f"sqlite:///{db_path}", example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path).returncode == 0
    (meeting_id,) = zoom_server.meetings
    zoom_server.delay_next(2.0, method="GET", path=f"/v2/meetings/{meeting_id}/registrants")

    from opsflow.core.config import load_settings
    from opsflow.core.jobspec import load_job
    from opsflow.zoom import zoom_from_settings

    settings = load_settings(env, dotenv_path=None)
    store = open_store(f"sqlite:///{db_path}")
    errors: list[BaseException] = []

    def sync() -> None:
        try:
            sync_zoom(store, zoom_from_settings(settings), load_job(example_jobs), INVITE_AT)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    worker = threading.Thread(target=sync)
    worker.start()
    deadline = time.monotonic() + 10
    while zoom_server.count("GET", f"/v2/meetings/{meeting_id}/registrants") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    other = sqlite3.connect(db_path, timeout=0.5, isolation_level=None)  # another runner wanting to write
    other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the sync held a write transaction
    other.execute("ROLLBACK")
    other.close()
    worker.join(timeout=30)
    store.dispose()
    assert errors == []


# --- 4. mail servers that hang, refuse, or leave doubt -----------------------------------------------

def test_a_mail_server_that_goes_silent_stops_the_batch_then_the_rest_go_out(tmp_path, example_jobs,
                                                                              zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    with SlowSink() as hung:
        hung.pause_after = [600.0]  # takes the first message, then never answers
        env = settings_env(db_url, example_jobs.parent, zoom_server, hung.url, OPSFLOW_SMTP_TIMEOUT="2")
        assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
        assert opsflow("zoom", "create", "example-seminar", env=env, cwd=tmp_path).returncode == 0
        started = time.monotonic()
        stopped = opsflow("send", "example-seminar", "invitation", env=env, cwd=tmp_path, timeout=180)
        took = time.monotonic() - started
        taken_by_hung = [r.recipients[0] for r in hung.received]
    assert took < 60  # one wait, not forty
    assert stopped.returncode == 1
    assert stopped.stderr == ("Error: the mail server stopped answering after taking a message (no answer within "
                              "the time limit (OPSFLOW_SMTP_TIMEOUT)); 0 sent, 1 ambiguous, 39 left for the next "
                              "run\n")
    (doubt,) = taken_by_hung
    assert f"  ambiguous  {doubt}: may or may not have been delivered" in stopped.stdout

    env["OPSFLOW_SMTP_URL"] = sink.url  # a working server: the rest go out, the one in doubt does not
    rerun = opsflow("send", "example-seminar", "invitation", env=env, cwd=tmp_path)
    assert rerun.returncode == 1  # the ambiguous one still needs a person
    assert rerun.stdout.startswith("example-seminar: mail.invitation: 39 sent, 0 had it already, 0 deferred, "
                                   "0 failed, 1 ambiguous")
    everyone = Counter(taken_by_hung) + invitations(sink)
    assert len(everyone) == EXAMPLE_PEOPLE and set(everyone.values()) == {1}


def test_a_silent_mail_server_through_run_due_alerts_and_exits_non_zero(tmp_path, example_jobs, zoom_server):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    with SlowSink() as hung:
        hung.pause_after = [600.0]
        env = settings_env(db_url, example_jobs.parent, zoom_server, hung.url, OPSFLOW_SMTP_TIMEOUT="1")
        assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
        result = opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert ("example-seminar: mail.invitation retry (the mail server stopped answering after taking a message "
            in result.stdout)
    assert "0 sent, 1 ambiguous, 39 left for the next run" in result.stdout
    assert step_states(db_url)["mail.invitation"] == "planned"  # the rest go at the next attempt


def test_a_refusal_stays_visible_until_resolved(tmp_path, example_jobs, zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 1
    rerun = opsflow("send", "example-seminar", "invitation", env=env, cwd=tmp_path)
    assert rerun.returncode == 1
    assert ("  failed     t-yamada@city.kaga.lg.jp: 550 5.1.1 No such user (refused in an earlier run"
            in rerun.stdout)
    assert step_states(db_url)["mail.invitation"] == "failed"
    status = opsflow("status", env=env, cwd=tmp_path).stdout
    assert "  example-seminar: mail.invitation failed: 1 failed" in status

    assert opsflow("registrants", "cancel", "example-seminar", "t-yamada@city.kaga.lg.jp", env=env,
                   cwd=tmp_path).returncode == 0  # the organizer gives up on the address
    settled = opsflow("send", "example-seminar", "invitation", env=env, cwd=tmp_path)
    assert settled.returncode == 0, settled.stdout
    assert step_states(db_url)["mail.invitation"] == "done"


def test_resolving_one_ambiguous_delivery_judges_only_that_one(tmp_path, example_jobs, zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    store = open_store(db_url)
    with store.begin() as conn:  # two deliveries left in doubt, as a crash during DATA leaves them
        for email in ("t-yamada@city.kaga.lg.jp", "m-nakamura@city.kaga.lg.jp"):
            db.set_deliveries(conn, "example-seminar", {"state": "sending"}, NOW, states=("sent",),
                              message_key="mail.invitation", recipients=[email])
    store.dispose()
    resolved = opsflow("deliveries", "resolve", "example-seminar", "--resend", "--to", "t-yamada@city.kaga.lg.jp",
                       env=env, cwd=tmp_path)
    assert (resolved.returncode, resolved.stderr) == (0, "")
    assert resolved.stdout.splitlines()[-1] == "example-seminar: mail.invitation: 1 sent again"


# --- 5. late registrants, dry runs ---------------------------------------------------------------

def test_a_late_registrant_is_invited_at_the_next_run_alone(db_url, tmp_path, example_jobs, zoom_server, sink):
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    assert len(invitations(sink)) == EXAMPLE_PEOPLE
    csv = example_jobs.parent / "registrants" / "example-seminar.csv"
    with csv.open("a", encoding="utf-8") as out:  # a new export of the form, one more person
        out.write("2027/01/09 09:12:00,遅野　登録,オソノ トウロク,late@city.example.lg.jp,架空市,総務課,主事,"
                  "オンライン参加,\n")
    later = INVITE_AT + timedelta(days=1)
    result = opsflow("run-due", "--now", iso(later), env=env, cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "mail.invitation done (1 sent)" in result.stdout
    invited = invitations(sink)
    assert invited["late@city.example.lg.jp"] == 1 and set(invited.values()) == {1}
    assert len(invited) == EXAMPLE_PEOPLE + 1

    added = opsflow("registrants", "add", "example-seminar", "hand@city.example.lg.jp", "--name", "手入力 花子",
                    env=env, cwd=tmp_path)
    assert "the invitation goes to them at the next run" in added.stdout
    opsflow("run-due", "--now", iso(later + timedelta(minutes=1)), env=env, cwd=tmp_path)
    invited = invitations(sink)
    assert invited["hand@city.example.lg.jp"] == 1 and set(invited.values()) == {1}


def test_send_dry_run_names_exactly_who_the_send_mails(run, write_job, tmp_path, sink):  # noqa: F811
    from .faults import write_registrants

    people = write_registrants(tmp_path / "jobs" / "people.csv", 40)
    write_job("""\
        [event]
        id = "no-zoom"
        title = "テストセミナー"
        start = 2027-01-21T18:00:00+09:00
        duration = "90m"

        [registrants]
        csv = "people.csv"
        """)
    env = {"OPSFLOW_SMTP_URL": sink.url, "OPSFLOW_MAIL_FROM": "seminar@example.jp"}
    assert run("apply", "--now", NOW.isoformat(), env=env).exit_code == 0
    dry = run("send", "no-zoom", "invitation", "--dry-run", env=env)
    assert dry.stdout.splitlines()[0] == "(dry run) no-zoom: mail.invitation would go to 40 people (0 already had it)"
    assert dry.stdout.splitlines()[1:] == [f"  {p}" for p in people]
    sent = run("send", "no-zoom", "invitation", env=env)
    assert sent.exit_code == 0 and sorted(r.recipients[0] for r in sink.received) == sorted(people)


# --- 6. cron: job files edited between runs, a crontab line without `cd` -------------------------------

def test_run_due_moves_a_seminar_whose_job_file_changed(db_url, tmp_path, example_jobs, zoom_server, sink):
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        "2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"), encoding="utf-8")
    moved = opsflow("run-due", "--now", iso(INVITE_AT + timedelta(hours=1)), env=env, cwd=tmp_path)
    assert moved.returncode == 0, (moved.stdout, moved.stderr)
    assert moved.stdout.splitlines()[0].startswith(
        "example-seminar: job-file applied (seminar moved from 2027-01-21 18:00 JST to 2027-01-28 18:00 JST")
    assert "example-seminar: mail.change.1 done (40 sent)" in moved.stdout
    (meeting,) = zoom_server.meetings.values()
    assert meeting["start_time"] == "2027-01-28T09:00:00Z"  # Zoom was told
    status = json.loads(opsflow("status", "--json", env=env, cwd=tmp_path).stdout)
    due = {s["key"]: s["due_at"] for s in status["events"][0]["steps"]}
    assert due["mail.reminder.1d"] == "2027-01-27T18:00:00+09:00"


def test_a_broken_job_file_holds_its_own_seminar_only(tmp_path, example_jobs, zoom_server, sink):
    db_url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    env = settings_env(db_url, example_jobs.parent, zoom_server, sink.url)
    assert opsflow("apply", "--now", iso(INVITE_AT), env=env, cwd=tmp_path).returncode == 0
    text = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(text.replace('duration = "90m"', 'duration = "ninety"'), encoding="utf-8")
    broken = opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert broken.returncode == 1
    assert (f"example-seminar: job-file error ({example_jobs}:14: event.duration: cannot read duration 'ninety'"
            in broken.stdout)
    assert "its seminar's steps wait until the job file is fixed" in broken.stdout
    assert sink.received == [] and zoom_server.meetings == {}  # nothing ran on the stale plan
    example_jobs.write_text(text, encoding="utf-8")
    fixed = opsflow("run-due", "--now", iso(INVITE_AT), env=env, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert len(invitations(sink)) == EXAMPLE_PEOPLE


def test_run_due_in_the_wrong_folder_says_what_it_looked_for(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    result = opsflow("run-due", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"Error: nothing to run here ({tmp_path}): no database at {tmp_path / 'opsflow.db'} "
                             f"and no job files in {tmp_path / 'jobs'}. Run opsflow from the seminars folder (in "
                             "cron: `cd FOLDER && opsflow run-due`), or set OPSFLOW_DATABASE_URL and "
                             "OPSFLOW_JOBS_DIR\n")
    assert not (tmp_path / "opsflow.db").exists()

"""Fault injection: senders killed mid-batch, slow and TLS-broken mail servers, Zoom rate-limit storms,
5xx and lost tokens during registration, broken and locked databases, a full outbox disk, and fuzzed
job files. Every fault is real (a SIGKILL, a socket, a mounted filesystem); nothing in opsflow is patched."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.cli.main import cli
from opsflow.core.config import Secret, Settings
from opsflow.mail.ledger import BatchStopped
from opsflow.core.errors import MailError, OpsflowError, StoreError
from opsflow.core.jobspec import load_job
from opsflow.mail.transport import SmtpTransport
from opsflow.mail.send import send_mail
from opsflow.core.plan import check_plan, plan_event
from opsflow.registrants import sync_registrants
from opsflow.core.runner import RunContext, run_due
from opsflow.store import Store, open_store
from opsflow.zoom import RetryPolicy

from .conftest import EXAMPLE_CSV, EXAMPLE_JOB, NOW
from .faults import (
    OPSFLOW,
    BetweenBatches,
    SlowSink,
    TlsSink,
    opsflow_env,
    resize_tmpfs,
    run_opsflow,
    self_signed_context,
    tiny_tmpfs,
    write_registrants,
)

SEND_AT = datetime(2027, 1, 7, 1, 0, tzinfo=timezone.utc)  # the example's invitation, 10:00 JST
MAIL_FROM = "パブリテックセミナー事務局 <seminar@example.jp>"
MEETINGS = "/v2/users/me/meetings"


# --- shared set-up ------------------------------------------------------------------------------

@pytest.fixture
def cli_run(tmp_path, monkeypatch):
    """cli_run(*args, **env) -> click Result, in tmp_path with its own database and jobs folder."""
    monkeypatch.chdir(tmp_path)
    base = {"OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}", "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs")}

    def run(*args: str, **env: str):
        return CliRunner().invoke(cli, list(args), env={**base, **env})

    return run


def _no_zoom_registration(job: Path) -> None:
    """The example registers people with Zoom; mail tests without a Zoom account switch that off."""
    job.write_text(job.read_text(encoding="utf-8").replace("registration = true", "registration = false"),
                   encoding="utf-8")


def _without_zoom(event):
    return dataclasses.replace(event, spec=event.spec.model_copy(update={"zoom": None}))


def _mail_settings(url: str) -> Settings:
    return Settings(smtp_url=Secret(url), mail_from=MAIL_FROM, organizer="パブリテックセミナー事務局")


@pytest.fixture
def mail_store(tmp_path, example_jobs):
    """A SQLite store holding the example seminar and its 40 registrants (no Zoom)."""
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    event = _without_zoom(load_job(example_jobs))
    apply_events(store, [event], NOW)
    sync_registrants(store, None, event, NOW)
    yield store, event
    store.dispose()


def _states(store, key: str = "mail.invitation") -> dict[str, str]:
    with store.read() as conn:
        return {d["recipient"]: d["state"] for d in db.list_deliveries(conn, "example-seminar", message_key=key)}


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# --- 1. a sender killed at random points of a 2,000-recipient send -----------------------------

BIG_JOB = """\
[event]
id = "big-seminar"
title = "全国自治体DXセミナー"
start = 2027-01-21T18:00:00+09:00
duration = "90m"

[registrants]
csv = "registrants/big.csv"
"""
KILLS = {"sqlite": 20, "postgresql": 8}
BIG = 2000


def _wait_for(sink, count: int, sender: subprocess.Popen, deadline: float) -> None:
    while len(sink.received) < count and sender.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


def test_sigkill_at_random_points_of_a_2000_recipient_send(request, db_url, tmp_path, smtp_sink):
    backend = request.node.callspec.params["db_url"]
    kills_wanted = KILLS[backend]
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "big-seminar.toml").write_text(BIG_JOB, encoding="utf-8")
    everyone = write_registrants(jobs / "registrants" / "big.csv", BIG)
    env = opsflow_env(OPSFLOW_DATABASE_URL=db_url, OPSFLOW_SMTP_URL=smtp_sink.url, OPSFLOW_JOBS_DIR=str(jobs),
                      OPSFLOW_MAIL_FROM="seminar@example.jp")
    applied = run_opsflow("apply", env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    imported = run_opsflow("registrants", "import", "big-seminar", env=env, cwd=tmp_path)
    assert imported.returncode == 0 and f"{BIG} added" in imported.stdout, imported.stdout + imported.stderr

    rng = random.Random(20270121 + kills_wanted)
    most_per_round = (BIG - 200) // kills_wanted  # the kills never reach the end of the batch
    kills = 0
    for _ in range(kills_wanted):
        before = len(smtp_sink.received)
        sender = subprocess.Popen([*OPSFLOW, "send", "big-seminar", "invitation"], env=env, cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if rng.random() < 0.25:  # early: while it starts, re-reads the CSV or claims the rows
            time.sleep(rng.uniform(0.0, 0.8))
        else:
            _wait_for(smtp_sink, before + rng.randint(1, most_per_round), sender, time.monotonic() + 60)
        if sender.poll() is None:
            os.kill(sender.pid, signal.SIGKILL)
        _, stderr = sender.communicate()
        assert sender.returncode == -signal.SIGKILL, f"the sender ended by itself: {stderr.decode()}"
        kills += 1

    final = run_opsflow("send", "big-seminar", "invitation", "--json", env=env, cwd=tmp_path)
    assert final.returncode in (0, 1), final.stderr
    report = json.loads(final.stdout)
    listed = run_opsflow("deliveries", "big-seminar", "--state", "ambiguous", "--json", env=env, cwd=tmp_path)
    ambiguous = {d["recipient"] for d in json.loads(listed.stdout)}
    ledger = json.loads(run_opsflow("deliveries", "big-seminar", "--json", env=env, cwd=tmp_path).stdout)

    delivered = Counter(r.recipients[0] for r in smtp_sink.received)
    assert all(len(r.recipients) == 1 for r in smtp_sink.received)
    assert [email for email, n in delivered.items() if n > 1] == []  # nobody got two
    assert set(delivered) <= set(everyone)
    missing = set(everyone) - set(delivered)
    assert missing <= ambiguous, f"never delivered and not reported: {sorted(missing - ambiguous)[:5]}"
    assert len(ambiguous) <= kills
    assert set(report["ambiguous"]) == ambiguous  # the send names every ambiguous delivery
    assert final.returncode == (1 if ambiguous else 0)
    states = Counter(d["state"] for d in ledger)
    assert states == Counter({"sent": BIG - len(ambiguous), "ambiguous": len(ambiguous)})
    marked_sent = {d["recipient"] for d in ledger if d["state"] == "sent"}
    assert marked_sent <= set(delivered)  # nothing is marked sent that the server never took


# --- 2. slow and TLS-broken mail servers ---------------------------------------------------------

@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-command-at-a-time"])
def test_slow_server_still_gets_each_message_once(mail_store, pipelining):
    store, event = mail_store
    with SlowSink() as sink:
        sink.pipelining = pipelining
        sink.pause_before = [0.2, 0.2, 0.2]  # a busy server: the first three DATA answers take a while
        report = send_mail(store, _mail_settings(sink.url), event, "invitation", SEND_AT, sync=False)
        delivered = [r.recipients[0] for r in sink.received]
    assert len(report.sent) == 40 and report.ambiguous == [] and report.deferred == []
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 40
    assert set(_states(store).values()) == {"sent"}


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-command-at-a-time"])
def test_answer_slower_than_the_client_timeout_stops_the_batch_and_is_never_resent(mail_store, pipelining):
    store, event = mail_store
    with SlowSink() as sink:
        sink.pipelining = pipelining
        sink.pause_after = [3.0]  # the first message is taken, its answer comes after the client gave up
        with pytest.raises(BatchStopped) as stopped:
            send_mail(store, _mail_settings(sink.url), event, "invitation", SEND_AT, sync=False,
                      transport=SmtpTransport(sink.url, timeout=1.0))
        report = stopped.value.report
        assert (len(report.sent), len(report.ambiguous), report.left) == (0, 1, 39)  # no 39 more waits
        assert str(stopped.value).endswith("; 0 sent, 1 ambiguous, 39 left for the next run")
        (ambiguous,) = report.ambiguous
        assert _states(store)[ambiguous] == "sending"
        rerun = send_mail(store, _mail_settings(sink.url), event, "invitation", SEND_AT, sync=False)
        delivered = [r.recipients[0] for r in sink.received]
    assert len(rerun.sent) == 39 and rerun.ambiguous == [ambiguous]
    assert len(delivered) == 40 and len(set(delivered)) == 40  # the server did take it: nobody got two


def test_smtps_against_a_plain_server_fails_the_handshake_and_marks_nothing(mail_store, smtp_sink):
    store, event = mail_store
    url = f"smtps://127.0.0.1:{smtp_sink.port}"
    with pytest.raises(MailError) as err:
        send_mail(store, _mail_settings(url), event, "invitation", SEND_AT, sync=False)
    assert str(err.value).startswith(f"the TLS handshake with 127.0.0.1:{smtp_sink.port} failed (")
    assert str(err.value).endswith("check the host name and its certificate, or the scheme (smtps:// is port 465, "
                                   "smtp+starttls:// is 587)")
    assert set(_states(store).values()) == {"pending"} and smtp_sink.received == []


def test_smtps_handshake_failure_through_the_cli(cli_run, example_jobs, smtp_sink):
    _no_zoom_registration(example_jobs)
    env = {"OPSFLOW_SMTP_URL": f"smtps://127.0.0.1:{smtp_sink.port}", "OPSFLOW_MAIL_FROM": MAIL_FROM}
    assert cli_run("apply").exit_code == 0
    result = cli_run("send", "example-seminar", "invitation", **env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: the TLS handshake with 127.0.0.1:{smtp_sink.port} failed (")
    _no_traceback(result)
    ledger = json.loads(cli_run("deliveries", "example-seminar", "--json").stdout)
    assert len(ledger) == 40 and {d["state"] for d in ledger} == {"pending"}
    assert smtp_sink.received == []


@pytest.mark.parametrize("scheme,implicit", [("smtps", True), ("smtp+starttls", False)])
def test_a_certificate_nobody_trusts_is_refused(mail_store, tmp_path, scheme, implicit):
    store, event = mail_store
    with TlsSink(self_signed_context(tmp_path), implicit=implicit) as sink:
        url = f"{scheme}://127.0.0.1:{sink.port}"
        with pytest.raises(MailError) as err:
            send_mail(store, _mail_settings(url), event, "invitation", SEND_AT, sync=False)
        received = list(sink.received)
    assert str(err.value).startswith(f"the TLS handshake with 127.0.0.1:{sink.port} failed (CERTIFICATE_VERIFY_FAILED")
    assert set(_states(store).values()) == {"pending"} and received == []


# --- 3. Zoom faults through the runner -----------------------------------------------------------

@pytest.fixture
def world(tmp_path, example_jobs, smtp_sink):
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    settings = Settings(smtp_url=Secret(smtp_sink.url), mail_from=MAIL_FROM, organizer="パブリテックセミナー事務局")
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    yield store, settings
    store.dispose()


def _run(store, settings, make_zoom, clock, when: datetime) -> dict[str, str]:
    clock.wall = when
    return {r.key: r.state for r in run_due(RunContext(store, settings, when, make_zoom, owner="runner-a"))}


def _registered_once(store, fake_zoom) -> None:
    """Everyone in the roster is registered on Zoom exactly once, and holds Zoom's own personal link."""
    (meeting_id,) = fake_zoom.meetings
    on_zoom = fake_zoom.registrants(meeting_id)
    emails = [r["email"] for r in on_zoom]
    assert len(emails) == len(set(emails)) == 40
    links = {r["email"]: r["join_url"] for r in on_zoom}
    with store.read() as conn:
        people = db.list_registrants(conn, "example-seminar")
    assert {p["email"]: p["join_url"] for p in people} == links


def _longest_429_streak(fake_zoom) -> int:
    """The most 429 answers in a row to one request (the same method and path)."""
    longest, streak, last = 0, 0, None
    for r in (r for r in fake_zoom.recorded if r.path.startswith("/v2/")):
        key = (r.method, r.path)
        streak = streak + 1 if r.status == 429 and key == last else (1 if r.status == 429 else 0)
        last = key if r.status == 429 else None
        longest = max(longest, streak)
    return longest


def test_429_storm_makes_the_meeting_once_with_bounded_requests(world, zoom, fake_zoom, clock):
    store, settings = world
    fake_zoom.rate_limit_next(kind="QPS", times=10, retry_after="1")  # every API call, ten times in a row
    first = _run(store, settings, lambda: zoom, clock, NOW)
    assert first == {"zoom.create": "retry", "registrants.sync": "waiting", "mail.confirmation": "waiting"}
    assert fake_zoom.meetings == {}
    later = _run(store, settings, lambda: zoom, clock, NOW + timedelta(hours=1))
    assert later == {"zoom.create": "done", "registrants.sync": "done", "mail.confirmation": "done"}

    assert len(fake_zoom.meetings) == 1
    assert sum(r.status == 429 for r in fake_zoom.recorded) == 10
    limit = RetryPolicy().max_attempts
    assert _longest_429_streak(fake_zoom) <= limit  # no single call retried past the attempt limit
    assert fake_zoom.count("POST", MEETINGS) <= 2 * limit  # one bounded try per run
    _registered_once(store, fake_zoom)


def test_5xx_during_registration_resumes_without_registering_anyone_twice(world, zoom, fake_zoom, clock):
    store, settings = world

    def fail_batches() -> None:  # the second batch call and its retries all get 502 in this run
        fake_zoom.fail_next(502, times=RetryPolicy().max_attempts + 2, method="POST", path="/v2/meetings/")

    flaky = BetweenBatches(zoom, fail_batches)
    first = _run(store, settings, lambda: flaky, clock, NOW)
    assert first == {"zoom.create": "done", "registrants.sync": "retry", "mail.confirmation": "waiting"}
    with store.read() as conn:
        step = db.get_step(conn, "example-seminar", "registrants.sync")
        linked = [p for p in db.list_registrants(conn, "example-seminar") if p["join_url"]]
    assert "HTTP 502" in step["last_error"] and len(linked) == 30  # the first batch is kept

    later = _run(store, settings, lambda: zoom, clock, NOW + timedelta(hours=1))
    assert later == {"registrants.sync": "done", "mail.confirmation": "done"}
    _registered_once(store, fake_zoom)
    (meeting_id,) = fake_zoom.meetings
    batches = [json.loads(r.body) for r in fake_zoom.recorded
               if r.path == f"/v2/meetings/{meeting_id}/batch_registrants" and r.status == 201]
    sent = [p["email"] for body in batches for p in body["registrants"]]
    assert len(sent) == len(set(sent)) == 40  # each person went to Zoom in one successful call only


def test_token_revoked_between_batches_is_renewed_once_and_everyone_registered(world, zoom, fake_zoom, clock):
    store, settings = world
    losing = BetweenBatches(zoom, fake_zoom.expire_tokens)
    results = _run(store, settings, lambda: losing, clock, NOW)
    assert results == {"zoom.create": "done", "registrants.sync": "done", "mail.confirmation": "done"}
    assert losing.batches == 2 and fake_zoom.tokens_issued == 2
    (meeting_id,) = fake_zoom.meetings
    statuses = [r.status for r in fake_zoom.recorded if r.path == f"/v2/meetings/{meeting_id}/batch_registrants"]
    assert statuses == [201, 401, 201]
    _registered_once(store, fake_zoom)


def test_batch_answer_lost_to_a_timeout_is_retried_without_duplicates(world, zoom, fake_zoom, clock):
    store, settings = world
    zoom.timeout = (2.0, 0.1)
    fake_zoom.delay_next(0.4, method="POST", path="/v2/meetings/")  # Zoom registers the batch, answers late
    results = _run(store, settings, lambda: zoom, clock, NOW)
    assert results == {"zoom.create": "done", "registrants.sync": "done", "mail.confirmation": "done"}
    (meeting_id,) = fake_zoom.meetings
    assert fake_zoom.count("POST", f"/v2/meetings/{meeting_id}/batch_registrants") == 3  # 30 twice, then 10
    _registered_once(store, fake_zoom)


# --- 4. databases that cannot be used ------------------------------------------------------------

def test_missing_folder_through_the_cli(cli_run, tmp_path):
    url = f"sqlite:///{tmp_path / 'nowhere' / 'deeper' / 'opsflow.db'}"
    for command in (["status"], ["status", "--json"]):
        result = cli_run(*command, OPSFLOW_DATABASE_URL=url)
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (f"Error: cannot open {url}: the folder {tmp_path / 'nowhere' / 'deeper'} does not "
                                 "exist; create it or set OPSFLOW_DATABASE_URL to a file in an existing folder\n")
        _no_traceback(result)
    assert not (tmp_path / "nowhere").exists()  # nothing was made on the way


def test_file_that_is_not_a_database_through_the_cli(cli_run, tmp_path, example_jobs):
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"meeting notes, definitely not SQLite\n" * 200)
    url = f"sqlite:///{notes}"
    for command in (["status"], ["apply"]):
        result = cli_run(*command, OPSFLOW_DATABASE_URL=url)
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (f"Error: cannot use {url}: the file is not an SQLite database; point "
                                 "OPSFLOW_DATABASE_URL at an opsflow database or a new file name\n")
        _no_traceback(result)
    assert notes.read_bytes().startswith(b"meeting notes")  # nothing overwritten


@pytest.fixture
def exclusive_lock(tmp_path):
    """hold(seconds=None): another connection takes `BEGIN EXCLUSIVE` on tmp_path/opsflow.db and keeps it
    (for `seconds`, else until the test ends)."""
    path = tmp_path / "opsflow.db"
    open_store(f"sqlite:///{path}").dispose()
    taken, release, threads = threading.Event(), threading.Event(), []

    def keep(seconds: float | None) -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        taken.set()
        release.wait(seconds)
        other.execute("ROLLBACK")
        other.close()

    def hold(seconds: float | None = None) -> None:
        thread = threading.Thread(target=keep, args=(seconds,), daemon=True)
        thread.start()
        threads.append(thread)
        assert taken.wait(10)

    yield hold
    release.set()
    for thread in threads:
        thread.join(10)


def test_database_locked_by_another_process_says_what_to_do(tmp_path, exclusive_lock):
    url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    exclusive_lock()
    store = Store(url)
    store.engine = sa.create_engine(url, connect_args={"timeout": 0.2})  # opsflow waits 30 s; the test won't
    with pytest.raises(StoreError) as err, store.begin() as conn:
        conn.execute(sa.delete(db.events).where(db.events.c.id == ""))
    assert str(err.value) == (f"cannot use {url}: the database stayed locked by another process for 30 s; check "
                              "for a stuck opsflow process and try again")
    store.dispose()


def test_a_lock_held_briefly_is_waited_out(cli_run, tmp_path, example_jobs, exclusive_lock):
    exclusive_lock(0.5)
    result = cli_run("apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("example-seminar: new event")


# --- 5. no space left on the outbox disk ---------------------------------------------------------

@pytest.fixture
def full_outbox(tmp_path):
    try:
        with tiny_tmpfs(tmp_path / "outbox", "64k") as folder:
            yield folder
    except PermissionError as exc:
        pytest.skip(f"needs a tiny filesystem to fill: {exc} (run as root where mount is allowed)")


def _written(folder: Path) -> list[str]:
    return sorted(message_from_bytes(p.read_bytes(), policy=default_policy)["To"].addresses[0].addr_spec
                  for p in folder.glob("*.eml"))


def test_no_space_left_on_the_outbox(cli_run, mail_store, full_outbox):
    store, event = mail_store
    url = f"file:{full_outbox}"
    with pytest.raises(MailError) as err:
        send_mail(store, _mail_settings(url), event, "invitation", SEND_AT, sync=False)
    written = _written(full_outbox)
    assert 0 < len(written) < 40
    assert str(err.value) == (f"cannot write to the outbox {full_outbox}: No space left on device; "
                              f"{len(written)} sent, 0 ambiguous, {40 - len(written)} left for the next run")
    states = _states(store)
    assert {e for e, s in states.items() if s == "sent"} == set(written)  # nothing falsely sent
    assert {s for e, s in states.items() if e not in written} == {"pending"}  # the one that failed, and the rest
    assert not list(full_outbox.glob("*.tmp"))

    env = {"OPSFLOW_SMTP_URL": url, "OPSFLOW_MAIL_FROM": MAIL_FROM}
    still_full = cli_run("send", "example-seminar", "invitation", "--no-sync", **env)
    assert still_full.exit_code == 1
    assert still_full.stderr == (f"Error: cannot write to the outbox {full_outbox}: No space left on device; "
                                 f"0 sent, 0 ambiguous, {40 - len(written)} left for the next run\n")
    _no_traceback(still_full)
    assert _written(full_outbox) == written

    resize_tmpfs(full_outbox, "4m")  # room again: the rest goes out, nobody twice
    done = cli_run("send", "example-seminar", "invitation", "--no-sync", **env)
    assert done.exit_code == 0, done.output
    everyone = _written(full_outbox)
    assert len(everyone) == 40 and len(set(everyone)) == 40
    assert set(_states(store).values()) == {"sent"}


# --- 6. fuzzed job files -------------------------------------------------------------------------

EXAMPLE_TEXT = EXAMPLE_JOB.read_text(encoding="utf-8")
KNOWN_KEYS = ("id", "series", "title", "start", "duration", "timezone", "language", "holidays", "description",
              "templates", "cancelled", "name", "affiliation", "talk", "position", "kind", "host", "registration",
              "approval", "zoom_emails", "alternative_hosts", "delete_on_cancel", "csv", "encoding", "email",
              "at", "enabled", "attended_minutes", "url", "remind", "remind_at", "followup", "followup_survey",
              "materials_url", "recording_url", "zoom_survey", "comment_columns", "to", "mail")
TABLES = ("[event]", "[[event.speakers]]", "[zoom]", "[registrants]", "[registrants.columns]", "[[mail]]",
          "[report]", "[survey]", "[summary]", "[events]", "[mail]", "[[zoom]]")
WORDS = ("90m", "1h30m", "0m", "-5m", "99999999h", "1.5h", "start - 14d @ 10:00", "start - 1d", "end + 3bd @ 10:00",
         "end + 30m", "start + 1h", "end - 1h", "start - 1x", "start - 999999bd", "start - 1d @ 25:61", "after x",
         "2027-01-07T10:00:00+09:00", "2027-01-07T10:00:00", "Asia/Tokyo", "UTC", "America/New_York",
         "Europe/London", "../../etc/passwd", "", "ja", "en", "fr", "JP", "US", "ZZ", "jp", "invitation",
         "reminder", "survey", "meeting", "webinar", "manual", "me", "x@example.jp", "not-an-email",
         "https://forms.example.jp/f/a?email={email}&t={token}", "ftp://x", "registrants/example-seminar.csv",
         "registrants", "/dev/null", "cp932", "no-such-encoding", "example-seminar", "Example Seminar", "templates")


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON string escapes are TOML basic-string escapes


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)


# Datetimes stay within 1900-2100 here: the edge of the calendar has its own test below.
_moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31))
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")
_scalars = st.one_of(
    st.sampled_from(WORDS).map(_toml_string),
    st.text(max_size=40).map(_toml_string),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["0", "1", "-1", "10", "90", "9223372036854775807", "-9223372036854775808"]),
    st.floats().map(_toml_float),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.tuples(_moments, _offsets).map(lambda m: m[0].strftime("%Y-%m-%dT%H:%M:%S") + m[1]),
    _moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S")),
    _moments.map(lambda m: m.strftime("%Y-%m-%d")),
    _moments.map(lambda m: m.strftime("%H:%M:%S")),
)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(st.sampled_from(KNOWN_KEYS), _scalars), max_size=3).map(
        lambda pairs: "{ " + ", ".join(f"{k} = {v}" for k, v in pairs) + " }"),
)
_keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.from_regex(r"[a-z_][a-z0-9_-]{0,12}", fullmatch=True))
_lines = st.one_of(
    st.sampled_from(TABLES),
    st.tuples(_keys, _values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.text(max_size=30),
)
SKELETON = '[event]\nid = "fuzz"\ntitle = "T"\nstart = 2027-01-21T18:00:00+09:00\nduration = "90m"\n'
random_job_texts = st.one_of(
    st.lists(_lines, max_size=25).map("\n".join),
    st.lists(_lines, max_size=15).map(lambda lines: SKELETON + "\n".join(lines)),
)


@st.composite
def mutated_examples(draw) -> str:
    """The shipped example with lines deleted, values changed to random ones, lines added or repeated."""
    lines = EXAMPLE_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "value", "value", "insert", "repeat"]))
        if action == "delete":
            del lines[index]
        elif action == "value":
            assignments = [i for i, line in enumerate(lines) if re.match(r"\s*[a-z_]+\s*=", line)]
            target = draw(st.sampled_from(assignments))
            lines[target] = lines[target].split("=", 1)[0] + "= " + draw(_values)
        elif action == "insert":
            lines.insert(index, draw(_lines))
        else:
            lines.insert(index, lines[index])
        if not lines:
            break
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "registrants").mkdir()
    shutil.copy(EXAMPLE_CSV, folder / "registrants" / EXAMPLE_CSV.name)
    return folder


def _load_and_plan(path: Path) -> None:
    """Only opsflow's own errors may come out: anything else would be a traceback for the user."""
    try:
        event = load_job(path)
        check_plan(event, plan_event(event), NOW)
    except OpsflowError:
        pass


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(text=random_job_texts)
def test_random_job_text_raises_only_opsflow_errors(fuzz_folder, text):
    path = fuzz_folder / "random.toml"
    path.write_text(text, encoding="utf-8")
    _load_and_plan(path)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_opsflow_errors(fuzz_folder, data):
    path = fuzz_folder / "bytes.toml"
    path.write_bytes(data)
    _load_and_plan(path)


@FUZZ
@given(text=mutated_examples())
def test_mutated_example_raises_only_opsflow_errors(fuzz_folder, text):
    path = fuzz_folder / "example-seminar.toml"
    path.write_text(text, encoding="utf-8")
    _load_and_plan(path)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_examples())
def test_validate_command_on_mutated_examples(fuzz_folder, text):
    path = fuzz_folder / "cli-example.toml"
    path.write_text(text, encoding="utf-8")
    env = {"OPSFLOW_DATABASE_URL": f"sqlite:///{fuzz_folder / 'unused.db'}", "OPSFLOW_JOBS_DIR": str(fuzz_folder),
           "OPSFLOW_TEMPLATES_DIR": ""}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(fuzz_folder)  # no .env of the developer's
        result = CliRunner().invoke(cli, ["validate", str(path)], env=env)
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    if result.exit_code:
        assert result.stderr.startswith("Error: ") and result.stdout == ""
    else:
        assert result.stdout.startswith(f"ok: {path} (")
    _no_traceback(result)


@pytest.mark.parametrize("start", ["0001-01-01T00:30:00+09:00", "9999-12-31T23:00:00-09:00"])
def test_start_at_the_edge_of_the_calendar_is_a_job_file_error(cli_run, write_job, start):
    path = write_job(f'[event]\nid = "edge"\ntitle = "T"\nstart = {start}\nduration = "90m"\n')
    with pytest.raises(OpsflowError):
        plan_event(load_job(path))
    result = cli_run("validate", str(path))
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {path}:4: event.start: ")
    _no_traceback(result)

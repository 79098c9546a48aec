"""The staff chat as organizers meet it: alerts and the summary posted once to a webhook on loopback
(FakeChat) by `opsflow run-due` and `opsflow summary --send`, with a failing Zoom, several runners at once,
a chat that fails, rate-limits or hangs, Teams' format, and the webhook URL never shown anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsflow import store as db
from opsflow.core.config import load_settings
from opsflow.sandbox.chat import FakeChat
from opsflow.store import open_store

from .test_cli import run  # noqa: F401  (the `run` fixture: the CLI in-process)

SECRET_PATH = "/services/T0SECRETID/B0SECRETID/s3cr3tTokenValue42"
TOKEN = "s3cr3tTokenValue42"
STAFF = "seminar-staff@example.jp"
START = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)  # 18:00 JST
INVITE_AT = datetime(2027, 1, 8, 1, 0, tzinfo=UTC)  # 10:00 JST: the invitation is due, nothing else
AFTER = START + timedelta(minutes=90 + 31)  # the report is ready, the summary due


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def chat():
    with FakeChat() as fake:
        yield fake


@pytest.fixture
def env(db_url, example_jobs, fake_zoom, smtp_sink, chat) -> dict[str, str]:
    """Every setting a run needs, the staff chat a Slack-style webhook on loopback."""
    return {
        "OPSFLOW_DATABASE_URL": db_url,
        "OPSFLOW_JOBS_DIR": str(example_jobs.parent),
        "OPSFLOW_ZOOM_ACCOUNT_ID": fake_zoom.account_id,
        "OPSFLOW_ZOOM_CLIENT_ID": fake_zoom.client_id,
        "OPSFLOW_ZOOM_CLIENT_SECRET": fake_zoom.client_secret,
        "OPSFLOW_ZOOM_API_URL": fake_zoom.api_url,
        "OPSFLOW_ZOOM_OAUTH_URL": fake_zoom.oauth_url,
        "OPSFLOW_SMTP_URL": smtp_sink.url,
        "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
        "OPSFLOW_STAFF_WEBHOOK_URL": chat.hook("slack", SECRET_PATH),
    }


@pytest.fixture
def held(run, env, fake_zoom, clock):  # noqa: F811
    """Applied, the meeting made and everyone registered with Zoom, then held: 10 of 40 attended an hour."""
    assert run("apply", env=env).exit_code == 0
    assert run("zoom", "create", "example-seminar", env=env).exit_code == 0
    assert run("registrants", "sync", "example-seminar", env=env).exit_code == 0
    (meeting_id,) = fake_zoom.meetings
    people = fake_zoom.registrants(meeting_id)[:10]
    clock.wall = START + timedelta(minutes=90)
    segments = [
        {"name": p["last_name"], "user_email": p["email"], "registrant_id": p["id"], "join_time": START,
         "leave_time": START + timedelta(minutes=60)}
        for p in people
    ]
    fake_zoom.end_meeting(meeting_id, ended_at=clock.wall, participants=segments)
    clock.wall = AFTER
    # the mails nobody sent are missed during the seminar, alerted by mail: the chat is for what follows
    during = run("run-due", "--now", iso(START + timedelta(minutes=30)), env={**env, "OPSFLOW_STAFF_WEBHOOK_URL": ""})
    assert "mail.invitation missed" in during.stdout
    return env


def texts(chat: FakeChat) -> list[str]:
    """The text of every message the chat accepted, in order."""
    return [body["text"] for body in chat.messages(SECRET_PATH)]


def staff_subjects(smtp_sink) -> Counter:
    return Counter(str(m["Subject"]) for m in smtp_sink.to(STAFF))


def chat_rows(db_url: str) -> dict[str, tuple[str, str | None]]:
    """The staff chat's ledger rows: message key -> (state, last error)."""
    store = open_store(db_url)
    try:
        with store.read() as conn:
            rows = db.list_deliveries(conn, "example-seminar")
    finally:
        store.dispose()
    return {r["message_key"]: (r["state"], r["last_error"]) for r in rows if r["recipient"] == "staff-chat"}


def refuse_the_meeting(fake_zoom) -> None:
    fake_zoom.fail_next(404, code=1001, message="User does not exist: me.", method="POST", path="/v2/users/me/meetings")


def opsflow(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`opsflow ARGS` as its own process (its own logging, as cron starts it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    return subprocess.Popen([sys.executable, "-m", "opsflow", *args], env={**base, **env}, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- alerts ------------------------------------------------------------------------------------------

def test_a_failed_step_alerts_once_by_mail_and_once_in_the_chat(run, env, fake_zoom, chat, smtp_sink,  # noqa: F811
                                                                db_url):
    refuse_the_meeting(fake_zoom)
    assert run("apply", "--now", iso(INVITE_AT), env=env).exit_code == 0
    first = run("run-due", "--now", iso(INVITE_AT), env=env)
    assert first.exit_code == 1
    assert "example-seminar: zoom.create failed (" in first.stdout
    again = run("run-due", "--now", iso(INVITE_AT + timedelta(minutes=1)), env=env)
    assert again.exit_code == 1 and "mail.invitation blocked" in again.stdout

    posted = texts(chat)
    mails = staff_subjects(smtp_sink)  # mail stays: one alert mail per step
    assert set(mails.values()) == {1} and len(mails) >= 3  # the failure and each step it blocks
    assert len(posted) == chat.count() == len(mails)  # and one chat post each, not one more at the second run
    assert posted[0].startswith("【要対応】パブリテックセミナー vol.3")
    assert "「Zoomミーティングの作成」が失敗しました" in posted[0]
    assert "User does not exist: me." in posted[0]
    assert any("「開催案内メールの送信」が前の処理の失敗で止まっています" in text for text in posted)
    rows = chat_rows(db_url)
    assert len(rows) == len(mails) and set(rows.values()) == {("sent", None)}
    assert {"chat.alert.zoom.create", "chat.alert.registrants.sync.blocked", "chat.alert.mail.invitation.blocked"} <= set(rows)


def test_without_a_staff_list_the_alert_still_goes_to_the_chat(run, env, example_jobs, fake_zoom, chat,  # noqa: F811
                                                                smtp_sink, db_url):
    text = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(text.replace('[summary]\nto = ["seminar-staff@example.jp"]\n', ""), encoding="utf-8")
    refuse_the_meeting(fake_zoom)
    assert run("apply", "--now", iso(INVITE_AT), env=env).exit_code == 0
    assert run("run-due", "--now", iso(INVITE_AT), env=env).exit_code == 1
    assert len(texts(chat)) >= 3  # the failure and each step it blocks
    assert smtp_sink.to(STAFF) == []
    store = open_store(db_url)
    try:
        with store.read() as conn:
            step = db.get_step(conn, "example-seminar", "zoom.create")
    finally:
        store.dispose()
    assert step["alerted_at"] is not None  # staff were told, by chat alone


def test_an_alert_the_chat_refuses_is_recorded_and_shown(run, env, fake_zoom, chat, smtp_sink, db_url):  # noqa: F811
    chat.fail_next(404, times=100)  # the webhook was removed: every alert is refused
    refuse_the_meeting(fake_zoom)
    assert run("apply", "--now", iso(INVITE_AT), env=env).exit_code == 0
    first = run("run-due", "--now", iso(INVITE_AT), env=env)
    assert first.exit_code == 1
    assert "the staff chat post chat.alert.zoom.create failed: the staff chat webhook (http://127.0.0.1:" in first.stderr
    assert "the URL is wrong or the webhook was removed: check OPSFLOW_STAFF_WEBHOOK_URL" in first.stderr
    assert texts(chat) == []
    mails = len(staff_subjects(smtp_sink))
    assert mails >= 3  # the mail went all the same
    state, error = chat_rows(db_url)["chat.alert.zoom.create"]
    assert state == "failed" and "answered 404 (no_service)" in error
    status = run("status", env=env)
    assert "zoom.create failed: " in status.stdout
    assert "(staff chat alert not posted: the staff chat webhook (http://127.0.0.1:" in status.stdout

    run("run-due", "--now", iso(INVITE_AT + timedelta(minutes=1)), env=env)
    assert chat.count() == mails  # a refused alert is not posted again by every run


# --- the summary -------------------------------------------------------------------------------------

@pytest.mark.parametrize("flavor", ["slack", "teams"])
def test_the_summary_is_posted_once_with_the_attendance(run, held, chat, smtp_sink, flavor, db_url):  # noqa: F811
    env = {**held, "OPSFLOW_STAFF_WEBHOOK_URL": chat.hook(flavor, SECRET_PATH)}
    if flavor == "teams":  # a Teams webhook on a host opsflow cannot recognise: the setting says so
        env["OPSFLOW_STAFF_WEBHOOK_FORMAT"] = "teams"
    result = run("run-due", "--now", iso(AFTER), env=env)
    assert "example-seminar: report.fetch done" in result.stdout
    assert "example-seminar: summary.staff done (sent to 1; staff chat (http://127.0.0.1:" in result.stdout
    run("run-due", "--now", iso(AFTER + timedelta(minutes=5)), env=env)
    assert run("summary", "example-seminar", "--send", env=env).exit_code == 0  # by hand too: nothing more

    summaries = [m for m in chat.messages(SECRET_PATH) if "集計報告" in json.dumps(m, ensure_ascii=False)]
    assert len(summaries) == 1
    assert sum("【集計報告" in s for s in staff_subjects(smtp_sink)) == 1
    if flavor == "slack":
        text = summaries[0]["text"]
        assert text.startswith("【集計報告・参加状況】パブリテックセミナー vol.3")
        assert "申込者数：40名" in text
        assert "参加者数：10名（申込者 10名・申込なし 0名）" in text
        assert "平均参加時間：60分" in text
    else:
        card = summaries[0]["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard"
        facts = {f["title"]: f["value"] for block in card["body"] if block["type"] == "FactSet" for f in block["facts"]}
        assert (facts["申込者数"], facts["参加者数"]) == ("40名", "10名（申込者 10名・申込なし 0名）")
    assert chat_rows(db_url)["chat.summary.staff"][0] == "sent"


def test_summary_send_dry_run_says_it_would_post(run, held, chat, smtp_sink):  # noqa: F811
    assert run("report", "fetch", "example-seminar", env=held).exit_code == 0
    dry = run("summary", "example-seminar", "--send", "--dry-run", env=held)
    assert dry.exit_code == 0
    assert dry.stdout.endswith(f"example-seminar: staff chat ({chat.base_url}/***): would-post (slack)\n")
    as_json = json.loads(run("summary", "example-seminar", "--send", "--dry-run", "--json", env=held).stdout)
    assert as_json["chat"] == {"outcome": "would-post", "message_key": "chat.summary.staff",
                               "target": f"{chat.base_url}/***", "detail": "slack"}
    assert chat.count() == 0 and not any("集計報告" in s for s in staff_subjects(smtp_sink))

    sent = json.loads(run("summary", "example-seminar", "--send", "--json", env=held).stdout)
    assert sent["chat"]["outcome"] == "posted" and sent["sent"] == [STAFF]
    again = json.loads(run("summary", "example-seminar", "--send", "--json", env=held).stdout)
    assert (again["chat"]["outcome"], again["sent"]) == ("already", [])
    assert chat.count() == 1


def test_run_due_dry_run_says_the_summary_step_would_also_post(run, held, chat, smtp_sink):  # noqa: F811
    assert run("report", "fetch", "example-seminar", env=held).exit_code == 0
    dry = run("run-due", "--dry-run", "--now", iso(AFTER), env=held)
    assert dry.exit_code == 0, dry.output
    assert "summary.staff would-run (would mail 1 people, and post to the staff chat)" in dry.stdout
    without = run("run-due", "--dry-run", "--now", iso(AFTER), env={**held, "OPSFLOW_STAFF_WEBHOOK_URL": ""})
    assert "summary.staff would-run (would mail 1 people)" in without.stdout
    assert chat.count() == 0 and not any("集計報告" in s for s in staff_subjects(smtp_sink))


def test_a_chat_that_fails_a_while_retries_the_summary_step_not_the_mail(run, held, chat, smtp_sink,  # noqa: F811
                                                                          db_url):
    chat.fail_next(503, times=3)  # every attempt of the first run
    first = run("run-due", "--now", iso(AFTER), env=held)
    assert "example-seminar: summary.staff retry (staff chat (http://127.0.0.1:" in first.stdout
    assert "the chat service is busy or having trouble; try again later" in first.stdout
    assert chat_rows(db_url)["chat.summary.staff"][0] == "deferred"

    second = run("run-due", "--now", iso(AFTER + timedelta(minutes=10)), env=held)
    assert "example-seminar: summary.staff done (sent to 0; staff chat (http://127.0.0.1:" in second.stdout
    assert sum("集計報告" in t for t in texts(chat)) == 1
    assert sum("【集計報告" in s for s in staff_subjects(smtp_sink)) == 1  # the mail went once, in the first run
    assert chat_rows(db_url)["chat.summary.staff"][0] == "sent"


def test_a_chat_still_failing_at_the_deadline_fails_the_step_and_alerts_by_mail(run, held, chat,  # noqa: F811
                                                                                 smtp_sink):
    chat.fail_next(503, times=6)  # the summary's three attempts and the alert's three
    late = run("run-due", "--now", iso(AFTER + timedelta(days=2, hours=1)), env=held)  # past its 2-day deadline
    assert late.exit_code == 1
    assert "example-seminar: summary.staff failed (staff chat (http://127.0.0.1:" in late.stdout
    alerts = [s for s in staff_subjects(smtp_sink) if s.startswith("【要対応】summary.staff が失敗しました")]
    assert len(alerts) == 1
    assert texts(chat) == []


# --- the webhook misbehaving ---------------------------------------------------------------------------

def test_chat_test_through_a_500_and_a_429(run, env, chat):  # noqa: F811
    chat.fail_next(500)
    first = run("chat", "test", env=env)
    assert (first.exit_code, first.stdout) == (
        0, f"posted to {chat.base_url}/***: slack, answered 200 after 2 attempts\n")
    chat.rate_limit_next(retry_after="1")
    began = time.monotonic()
    second = run("chat", "test", "--language", "en", "--json", env=env)
    assert time.monotonic() - began >= 1.0  # it waited as Retry-After asked
    assert json.loads(second.stdout) == {"dry_run": False, "outcome": "posted", "message_key": "chat.test",
                                         "target": f"{chat.base_url}/***",
                                         "detail": "slack, answered 200 after 2 attempts"}
    assert "answered 429 (rate_limited); trying again in 1 s" in second.stderr
    assert [t.splitlines()[0] for t in texts(chat)] == ["opsflow からのテスト投稿です", "A test post from opsflow"]
    assert chat.count() == 4


def test_chat_test_dry_run_and_without_the_setting(run, env, chat):  # noqa: F811
    dry = run("chat", "test", "--dry-run", env=env)
    assert dry.exit_code == 0
    assert dry.stdout.startswith(f"(dry run) would post to {chat.base_url}/*** (slack):\nopsflow からのテスト投稿です\n")
    assert chat.count() == 0
    unset = run("chat", "test", env={**env, "OPSFLOW_STAFF_WEBHOOK_URL": ""})
    assert unset.exit_code == 2
    assert unset.stderr.startswith("Error: OPSFLOW_STAFF_WEBHOOK_URL is not set: put the incoming webhook URL")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_chat_that_hangs_ends_the_run_and_says_why(run, env, fake_zoom, chat, smtp_sink, db_url):  # noqa: F811
    chat.hang_next(30, times=3)  # the first alert's three attempts; the others are posted
    refuse_the_meeting(fake_zoom)
    assert run("apply", "--now", iso(INVITE_AT), env=env).exit_code == 0
    began = time.monotonic()
    result = run("run-due", "--now", iso(INVITE_AT), env=env)
    assert time.monotonic() - began < 60  # three attempts of 10 s, not the chat's 30 s each
    assert result.exit_code == 1
    assert "did not answer within 10 s (ReadTimeout) (3 attempts): check the network" in result.stderr
    assert len(staff_subjects(smtp_sink)) >= 3  # the alert mails went all the same
    assert chat_rows(db_url)["chat.alert.zoom.create"][0] == "failed"


# --- several runners ---------------------------------------------------------------------------------------

def test_runners_and_a_manual_send_at_once_post_the_summary_once(run, held, chat, smtp_sink, tmp_path):  # noqa: F811
    assert run("report", "fetch", "example-seminar", env=held).exit_code == 0
    procs = [opsflow("summary", "example-seminar", "--send", env=held, cwd=tmp_path) for _ in range(3)]
    procs += [opsflow("run-due", "--now", iso(AFTER), env=held, cwd=tmp_path) for _ in range(2)]
    outcomes = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode in (0, 1) for proc in procs), outcomes
    assert sum("集計報告" in t for t in texts(chat)) == 1
    assert sum("【集計報告" in s for s in staff_subjects(smtp_sink)) == 1
    assert sum("): posted (" in out for out, _ in outcomes) == 1


def _killed_while_posting(chat: FakeChat, args: list[str], env: dict[str, str], cwd: Path) -> None:
    """Start `opsflow ARGS`, and kill it (SIGKILL, as a crash or an OOM kill would) while the chat holds its
    post unanswered: the post is left in doubt in the ledger (`sending`)."""
    chat.hang_next(60)
    proc = opsflow(*args, env=env, cwd=cwd)
    deadline = time.monotonic() + 60
    while chat.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    assert chat.count() == 1, "the post reached the chat before the kill"


def test_a_summary_post_in_doubt_is_posted_again_by_deliveries_resolve(run, held, chat, db_url,  # noqa: F811
                                                                       tmp_path):
    assert run("report", "fetch", "example-seminar", env=held).exit_code == 0
    _killed_while_posting(chat, ["summary", "example-seminar", "--send"], held, tmp_path)
    assert chat_rows(db_url)["chat.summary.staff"][0] == "sending"
    again = run("summary", "example-seminar", "--send", env=held)  # never posted again by itself
    assert "in-doubt" in again.stdout and chat.messages() == []

    resolved = run("deliveries", "resolve", "example-seminar", "--resend", "--to", "staff-chat", "--json", env=held)

    assert resolved.exit_code == 0, resolved.output
    data = json.loads(resolved.stdout)
    assert data["reposted"] == [{"message": "chat.summary.staff", "outcome": "posted", "detail": "200"}]
    assert data["resent"] == []  # no mail went again: the summary mail had gone before the kill
    assert len(chat.messages()) == 1 and "集計報告" in texts(chat)[0]
    assert chat_rows(db_url)["chat.summary.staff"][0] == "sent"


def test_an_alert_post_in_doubt_is_decided_as_sent_not_posted_again(run, env, fake_zoom, chat, db_url,  # noqa: F811
                                                                   tmp_path):
    refuse_the_meeting(fake_zoom)
    assert run("apply", "--now", iso(INVITE_AT), env=env).exit_code == 0
    _killed_while_posting(chat, ["run-due", "--now", iso(INVITE_AT)], env, tmp_path)
    assert chat_rows(db_url)["chat.alert.zoom.create"][0] == "sending"

    refused = run("deliveries", "resolve", "example-seminar", "--resend", "--to", "staff-chat", env=env)

    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "chat.alert.zoom.create: a staff chat alert is not posted again by hand" in refused.output
    assert "--to staff-chat --as-sent" in refused.output
    assert chat_rows(db_url)["chat.alert.zoom.create"][0] == "sending"  # nothing changed
    decided = run("deliveries", "resolve", "example-seminar", "--as-sent", "--to", "staff-chat", env=env)
    assert decided.exit_code == 0 and chat_rows(db_url)["chat.alert.zoom.create"][0] == "sent"


# --- the URL is a secret ---------------------------------------------------------------------------------

def test_the_webhook_url_never_shows(run, env, fake_zoom, chat, db_url, tmp_path):  # noqa: F811
    secrets = (SECRET_PATH, TOKEN, "B0SECRETID", chat.hook("slack", SECRET_PATH))
    chat.fail_next(404, times=10)
    refuse_the_meeting(fake_zoom)
    seen = []
    for args in (
        ["apply", "--now", iso(INVITE_AT)],
        ["--debug", "run-due", "--now", iso(INVITE_AT)],
        ["run-due", "--now", iso(INVITE_AT + timedelta(minutes=1)), "--json"],
        ["status", "--json"],
        ["deliveries", "example-seminar", "--json"],
        ["doctor", "--json"],
        ["--debug", "chat", "test"],
        ["chat", "test", "--json"],
        ["chat", "test", "--dry-run", "--json"],
    ):
        proc = opsflow(*args, env=env, cwd=tmp_path)
        out, err = proc.communicate(timeout=120)
        seen.append((args, out, err))
    assert any("Traceback" in err and "ChatError" in err for _, _, err in seen)  # --debug showed one
    assert any("/***" in out + err for _, out, err in seen)
    leaks = [(args, s) for args, out, err in seen for s in secrets if s in out + err]
    assert leaks == []
    if db_url.startswith("sqlite:///"):
        data = Path(db_url.removeprefix("sqlite:///")).read_bytes()
        assert data and not any(s.encode() in data for s in secrets)
        wal = Path(db_url.removeprefix("sqlite:///") + "-wal")
        assert not wal.exists() or not any(s.encode() in wal.read_bytes() for s in secrets)
    for key, (state, error) in chat_rows(db_url).items():
        assert state == "failed" and not any(s in (error or "") for s in secrets), key


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_settings_name_the_setting_without_the_url(run, env, chat, tmp_path):  # noqa: F811
    bad_url = {**env, "OPSFLOW_STAFF_WEBHOOK_URL": "ftp://hooks.example.jp/services/T0SECRETID/s3cr3tTokenValue42"}
    result = run("chat", "test", env=bad_url)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: OPSFLOW_STAFF_WEBHOOK_URL (ftp://hooks.example.jp/***) is not an http(s) URL with a host: put the "
        "incoming webhook URL of the staff chat (Slack, Mattermost, Rocket.Chat, LoGo Chat or Microsoft Teams) that "
        "also gets alerts and summaries (optional), e.g. https://hooks.slack.com/services/...\n"
    )
    debug = opsflow("--debug", "chat", "test", env=bad_url, cwd=tmp_path)
    out, err = debug.communicate(timeout=60)
    assert "ConfigError" in err and TOKEN not in out + err
    bad_format = run("chat", "test", env={**env, "OPSFLOW_STAFF_WEBHOOK_FORMAT": "discord"})
    assert bad_format.exit_code == 2
    assert bad_format.stderr.startswith("Error: OPSFLOW_STAFF_WEBHOOK_FORMAT='discord' is not a chat format: put "
                                        "the staff chat's message format: slack (Slack")
    doctor = json.loads(run("doctor", "--json", env=bad_format_env(env)).stdout)
    check = next(c for c in doctor["checks"] if c["name"] == "staff chat")
    assert check["status"] == "fail" and "OPSFLOW_STAFF_WEBHOOK_FORMAT='discord'" in check["detail"]
    good = json.loads(run("doctor", "--json", env=env).stdout)
    check = next(c for c in good["checks"] if c["name"] == "staff chat")
    assert (check["status"], check["detail"]) == (
        "ok", f"{chat.base_url}/*** (slack format, guessed from the host); `opsflow chat test` posts a test message")

    settings = load_settings(bad_url, dotenv_path=None)
    assert TOKEN not in repr(settings) and "staff_webhook_url='ftp://hooks.example.jp/***'" in repr(settings)
    settings = load_settings(env, dotenv_path=None)
    assert TOKEN not in repr(settings) and f"staff_webhook_url='{chat.base_url}/***'" in repr(settings)
    assert TOKEN in settings.secret_values() and SECRET_PATH in settings.secret_values()


def bad_format_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "OPSFLOW_STAFF_WEBHOOK_FORMAT": "discord"}

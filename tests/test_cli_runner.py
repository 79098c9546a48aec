"""`opsflow run-due`, `scheduler`, `doctor` and `status` as a person or cron runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .test_cli import NOW, run  # noqa: F401  (the `run` fixture)
from .test_cli_mail import mail_env  # noqa: F401
from .test_cli_zoom import zoom_env  # noqa: F401


@pytest.fixture
def env(tmp_path, example_jobs, zoom_env, mail_env):  # noqa: F811
    return {
        **os.environ,
        **zoom_env,
        **mail_env,
        "OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}",
        "OPSFLOW_JOBS_DIR": str(example_jobs.parent),
    }


def _opsflow(args, env, cwd, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "opsflow", *args], env=env, cwd=cwd, capture_output=True, text=True, **kwargs
    )


def test_run_due_with_nothing_due_is_silent(env, tmp_path):
    assert _opsflow(["apply", "--now", NOW], env, tmp_path).returncode == 0
    assert _opsflow(["run-due", "--now", NOW], env, tmp_path).returncode == 0  # the meeting, the registrants
    quiet = _opsflow(["run-due"], env, tmp_path)  # now: nothing is due until the invitation in 2027
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    for args in (["run-due"], ["run-due", "--log-format", "json"]):
        probe = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "opsflow", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert probe.stdout == "" and probe.returncode == 0
        assert "sqlalchemy" not in probe.stderr and "click" not in probe.stderr  # the quick path loads neither


def test_run_due_runs_and_reports(run, example_jobs, env, smtp_sink):  # noqa: F811
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    first = run("run-due", "--now", NOW, env=env)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0].startswith("example-seminar: zoom.create done (meeting ")
    assert first.stdout.splitlines()[1] == (
        "example-seminar: registrants.sync done (40 added, 0 cancelled; 40 registered with Zoom)"
    )
    assert first.stdout.splitlines()[2] == "example-seminar: mail.confirmation done (40 sent)"  # 受付完了
    assert len(smtp_sink.received) == 40
    smtp_sink.received.clear()
    dry = run("run-due", "--dry-run", "--now", "2027-01-07T10:00:00+09:00", "--json", env=env)
    assert json.loads(dry.stdout) == [
        {
            "event_id": "example-seminar",
            "key": "mail.invitation",
            "state": "would-run",
            "message": "would mail 40 people",
            "needs_attention": False,
            "retry_at": None,
        }
    ]
    assert smtp_sink.received == []

    smtp_sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    failed = run("run-due", "--now", "2027-01-07T10:00:00+09:00", env=env)
    assert failed.exit_code == 1
    assert failed.stdout == "example-seminar: mail.invitation failed (39 sent)\n"
    status = run("status", env=env).stdout.splitlines()
    assert status[:2] == ["Needs attention", "  example-seminar: mail.invitation failed: 1 failed"]


def test_late_start_reports_missed_steps(run, example_jobs, env):  # noqa: F811
    run("apply", "--now", NOW, env=env)
    late = run("run-due", "--now", "2027-01-21T18:05:00+09:00", env=env)
    assert late.exit_code == 1
    assert "example-seminar: mail.reminder.1h missed (found after the seminar had started: not sent)" in late.stdout


def test_doctor_all_good_then_a_broken_mail_server(run, example_jobs, env, smtp_sink):  # noqa: F811
    good = run("doctor", env=env)
    assert good.exit_code == 0, good.output
    lines = good.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "[ok  ] settings",
        "[ok  ] database",
        "[ok  ] job files and templates",
        "[ok  ] time zones",
        "[ok  ] zoom",
        "[ok  ] mail",
        "[skip] staff chat",  # no OPSFLOW_STAFF_WEBHOOK_URL: alerts and summaries go by mail only
    ]
    assert lines[3] == "[ok  ] time zones: Asia/Tokyo"
    bad = run("doctor", env={**env, "OPSFLOW_SMTP_URL": "smtp://127.0.0.1:9"})
    assert bad.exit_code == 1
    assert bad.stdout.splitlines()[-2].startswith("[FAIL] mail: cannot connect to the mail server 127.0.0.1:9")


def test_doctor_json(run, example_jobs, env, smtp_sink):  # noqa: F811
    good = run("doctor", "--json", env=env)
    assert good.exit_code == 0, good.output
    data = json.loads(good.stdout)
    assert data["ok"] is True
    assert [(c["name"], c["status"]) for c in data["checks"]] == [
        ("settings", "ok"),
        ("database", "ok"),
        ("job files and templates", "ok"),
        ("time zones", "ok"),
        ("zoom", "ok"),
        ("mail", "ok"),
        ("staff chat", "skip"),
    ]
    bad = run("doctor", "--json", env={**env, "OPSFLOW_SMTP_URL": "smtp://127.0.0.1:9"})
    assert bad.exit_code == 1
    checks = json.loads(bad.stdout)
    mail = next(c for c in checks["checks"] if c["name"] == "mail")
    assert checks["ok"] is False and mail["status"] == "fail"
    assert mail["detail"].startswith("cannot connect to the mail server 127.0.0.1:9")


def test_doctor_names_refused_zoom_credentials(run, example_jobs, env, smtp_sink):  # noqa: F811
    result = run("doctor", env={**env, "OPSFLOW_ZOOM_CLIENT_SECRET": "wrong-one-777"})
    assert result.exit_code == 1
    assert "[FAIL] zoom: Zoom refused the app credentials" in result.stdout
    assert "wrong-one-777" not in result.output


def test_scheduler_runs_due_steps_and_stops_on_sigterm(env, tmp_path, fake_zoom):
    process = subprocess.Popen(
        [sys.executable, "-m", "opsflow", "scheduler", "--log-format", "json", "--poll", "5"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60

    def registered() -> bool:
        return bool(fake_zoom.meetings) and len(fake_zoom.registrants(next(iter(fake_zoom.meetings)))) == 40

    while time.monotonic() < deadline and not registered():
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    messages = [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]
    assert "example-seminar: new event, 11 steps planned" in messages
    assert any(m.startswith("example-seminar: zoom.create done") for m in messages)
    assert "example-seminar: registrants.sync done (40 added, 0 cancelled; 40 registered with Zoom)" in messages
    assert messages[-1] == "scheduler stopped"
    assert len(fake_zoom.meetings) == 1

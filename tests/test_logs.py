"""What `opsflow scheduler` and `opsflow run-due` log: one line per event, times to the second in the
seminar's zone, a retry's real next attempt, JSON lines that parse, no secrets."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .test_cli import run  # noqa: F401  (the `run` fixture)
from .test_cli_mail import mail_env  # noqa: F401
from .test_cli_runner import env  # noqa: F401
from .test_cli_zoom import zoom_env  # noqa: F401

JST = ZoneInfo("Asia/Tokyo")
TEXT_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)")
STEP_LINE = re.compile(r"example-seminar: (\S+) (done|retry|failed|missed|blocked|waiting|skipped)\b")
RETRY_AT = re.compile(r"; will be tried again at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+)$")
ISO_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00")
FIELDS = {"time", "level", "event_id", "step", "state", "message"}


def _serve(env: dict, cwd: Path, *args: str, until: Callable[[str], bool], linger: float = 0.0) -> str:  # noqa: F811
    """Run `opsflow scheduler ARGS` until its log satisfies `until`, `linger` seconds more, then SIGTERM;
    returns what it logged."""
    path = cwd / "scheduler.log"
    with path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "opsflow", "scheduler", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not until(path.read_text(encoding="utf-8")):
                time.sleep(0.2)
            time.sleep(linger)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    return path.read_text(encoding="utf-8")


def _stored_retry_at(tmp_path: Path, key: str) -> datetime:
    from opsflow import store as db
    from opsflow.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    try:
        with store.read() as conn:
            return db.get_step(conn, "example-seminar", key)["retry_at"]
    finally:
        store.dispose()


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=JST)


def test_scheduler_text_log_one_line_per_event_in_the_seminar_zone(env, tmp_path, fake_zoom):  # noqa: F811
    fake_zoom.fail_next(500, times=10_000)  # Zoom down: zoom.create is put off, registrants.sync waits for it
    # several wake-ups after the retry (poll 1 s): nothing said again
    log = _serve(env, tmp_path, "--poll", "1", until=lambda text: "zoom.create retry" in text, linger=4)
    lines = log.splitlines()
    parsed = [TEXT_LINE.fullmatch(line) for line in lines]
    assert all(parsed), [line for line, p in zip(lines, parsed, strict=True) if not p]
    assert {p.group(2) for p in parsed if p} == {"JST"}  # the seminar's zone, even for lines about none
    steps = Counter(m.groups() for p in parsed if p and (m := STEP_LINE.match(p.group(4))))
    assert steps == {("zoom.create", "retry"): 1, ("registrants.sync", "waiting"): 1, ("mail.confirmation", "waiting"): 1}
    assert sum("scheduler stopped" in line for line in lines) == 1

    (retry,) = [p for p in parsed if p and "zoom.create retry" in p.group(4)]
    shown = RETRY_AT.search(retry.group(4))
    assert shown is not None and shown.group(2) == "JST", retry.group(0)
    logged_at, next_at = _local(retry.group(1)), _local(shown.group(1))
    assert next_at >= logged_at + timedelta(minutes=1)  # the back-off, counted from after the failed attempt
    assert _stored_retry_at(tmp_path, "zoom.create") == next_at  # the real next attempt, to the second


def test_scheduler_json_lines_carry_the_fields(env, tmp_path, fake_zoom):  # noqa: F811
    fake_zoom.fail_next(500, times=10_000)
    log = _serve(
        env, tmp_path, "--log-format", "json", "--poll", "1", until=lambda text: '"state": "retry"' in text, linger=2
    )
    records = [json.loads(line) for line in log.splitlines()]
    assert records and all(FIELDS <= set(r) for r in records)
    assert all(ISO_SECOND.fullmatch(r["time"]) for r in records)
    outcomes = Counter(
        (r["step"], r["state"]) for r in records if r["event_id"] and r["state"] not in (None, "running")
    )
    assert outcomes == {
        ("zoom.create", "retry"): 1, ("registrants.sync", "waiting"): 1, ("mail.confirmation", "waiting"): 1
    }
    (retry,) = [r for r in records if r["state"] == "retry"]
    assert (retry["level"], retry["event_id"], retry["step"]) == ("info", "example-seminar", "zoom.create")
    assert ISO_SECOND.fullmatch(retry["retry_at"])
    assert datetime.fromisoformat(retry["retry_at"]) > datetime.fromisoformat(retry["time"])
    assert retry["message"].startswith("example-seminar: zoom.create retry (Zoom answered HTTP 500")
    zoom_retries = [r for r in records if r["logger"] == "opsflow.zoom"]
    assert zoom_retries and all(r["step"] == "zoom.create" for r in zoom_retries)  # made inside the step
    assert fake_zoom.client_secret not in log


def test_scheduler_wakes_for_the_next_step_after_a_run(env, tmp_path, example_jobs, smtp_sink):  # noqa: F811
    """After its first run the scheduler must wake again at the next step's time (with a minute's poll,
    only that wake-up can send the invitation)."""
    due = (datetime.now(JST) + timedelta(seconds=12)).replace(microsecond=0)
    text = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(text.replace('at = "start - 14d @ 10:00"', f'at = "{due.isoformat()}"'), encoding="utf-8")
    log = _serve(env, tmp_path, "--poll", "60", until=lambda text: "mail.invitation done" in text)
    assert len({r.recipients[0] for r in smtp_sink.received}) == 40
    steps = Counter(m.groups() for line in log.splitlines() if (m := STEP_LINE.search(line)))
    assert steps == {
        ("zoom.create", "done"): 1,
        ("registrants.sync", "done"): 1,
        ("mail.confirmation", "done"): 1,
        ("mail.invitation", "done"): 1,
    }
    (sent,) = [TEXT_LINE.fullmatch(line) for line in log.splitlines() if "mail.invitation done" in line]
    assert sent is not None and _local(sent.group(1)) >= due


def test_run_due_retry_line_and_json_lines(run, env, example_jobs, fake_zoom):  # noqa: F811
    fake_zoom.fail_next(500, times=10_000)
    assert run("apply", env=env).exit_code == 0
    before = datetime.now(JST).replace(microsecond=0)
    first = run("run-due", env=env)
    assert first.exit_code == 0, first.output
    assert first.stderr == ""  # the step lines are on stdout, once
    (line,) = [line for line in first.stdout.splitlines() if line.startswith("example-seminar: zoom.create")]
    assert line.startswith("example-seminar: zoom.create retry (Zoom answered HTTP 500")
    shown = RETRY_AT.search(line)
    assert shown is not None and shown.group(2) == "JST"
    assert _local(shown.group(1)) >= before + timedelta(minutes=2)

    again = run(
        "run-due", "--log-format", "json", "--now", (datetime.now(JST) + timedelta(hours=1)).isoformat(), env=env
    )
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert {r["step"]: r["state"] for r in records} == {
        "zoom.create": "retry", "registrants.sync": "waiting", "mail.confirmation": "waiting"
    }
    assert all(FIELDS <= set(r) and ISO_SECOND.fullmatch(r["time"]) for r in records)
    (retry,) = [r for r in records if r["state"] == "retry"]
    assert ISO_SECOND.fullmatch(retry["retry_at"]) and retry["level"] == "info"
    listed = json.loads(run("run-due", "--json", "--dry-run", env=env).stdout)
    assert listed == [
        {
            "event_id": "example-seminar",
            "key": key,
            "state": "waiting",
            "message": "waits for zoom.create",
            "needs_attention": False,
            "retry_at": None,
        }
        for key in ("registrants.sync", "mail.confirmation")
    ]


def test_run_due_prints_a_failed_step_once(run, env, example_jobs, smtp_sink):  # noqa: F811
    assert run("apply", "--now", "2026-11-26T09:00:00+09:00", env=env).exit_code == 0
    assert run("run-due", "--now", "2026-11-26T09:00:00+09:00", env=env).exit_code == 0
    smtp_sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    failed = run("run-due", "--now", "2027-01-07T10:00:00+09:00", "--log-format", "json", env=env)
    assert failed.exit_code == 1
    (record,) = [json.loads(line) for line in failed.stdout.splitlines()]
    assert (record["level"], record["step"], record["state"]) == ("warning", "mail.invitation", "failed")
    assert "mail.invitation" not in failed.stderr


@pytest.fixture
def opsflow_logger():
    """The `opsflow` logger as it was, restored after a test that configures it."""
    logger = logging.getLogger("opsflow")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_masked_in_every_format(opsflow_logger, monkeypatch, tmp_path, log_format):
    from opsflow.core.config import load_settings
    from opsflow.core.scheduler import configure

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("OPSFLOW_ZOOM_CLIENT_SECRET", "s3cret-Value-42")
    monkeypatch.setenv("OPSFLOW_SMTP_URL", "smtp://mailer:pa55-word@127.0.0.1:25")
    stream = io.StringIO()
    configure(load_settings(), log_format, stream=stream)
    try:
        raise ValueError("token s3cret-Value-42 refused")
    except ValueError:
        logging.getLogger("opsflow.test").exception("login with pa55-word and %s failed", "s3cret-Value-42")
    out = stream.getvalue()
    assert "s3cret-Value-42" not in out and "pa55-word" not in out and "***" in out
    if log_format == "json":
        (record,) = [json.loads(line) for line in out.splitlines()]
        assert record["message"] == "login with *** and *** failed" and record["level"] == "error"
        assert "ValueError: token *** refused" in record["error"]

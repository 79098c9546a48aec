"""`opsflow report|survey|summary|series` and the survey webhook, through the CLI."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from opsflow.after.webhook import verify_signature

from .test_cli import run  # noqa: F401  (the `run` fixture)
from .test_cli_mail import mail_env  # noqa: F401
from .test_cli_zoom import zoom_env  # noqa: F401

START = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def held(run, example_jobs, zoom_env, mail_env, fake_zoom, clock):  # noqa: F811
    """Applied, meeting made, registered with Zoom, then held: the first 10 people attend 60 minutes."""
    env = {**zoom_env, **mail_env}
    assert run("apply", env=env).exit_code == 0
    assert run("zoom", "create", "example-seminar", env=env).exit_code == 0
    assert run("registrants", "sync", "example-seminar", env=env).exit_code == 0
    (meeting_id,) = fake_zoom.meetings
    people = fake_zoom.registrants(meeting_id)[:10]
    clock.wall = START + timedelta(minutes=90)
    fake_zoom.end_meeting(
        meeting_id,
        ended_at=clock.wall,
        participants=[
            {
                "name": p["last_name"],
                "user_email": p["email"],
                "registrant_id": p["id"],
                "join_time": START,
                "leave_time": START + timedelta(minutes=60),
            }
            for p in people
        ],
    )
    return env


def test_report_commands(run, held, clock, tmp_path):  # noqa: F811
    early = run("report", "fetch", "example-seminar", env=held)
    assert early.exit_code == 1
    assert early.stderr.startswith("Error: Zoom has no participant report for meeting ")
    clock.advance(minutes=31)
    fetched = run("report", "fetch", "example-seminar", env=held)
    assert fetched.stdout == "example-seminar: 10 rows from Zoom's report: 10 people, 10 attended\n"
    shown = run("report", "show", "example-seminar").stdout.splitlines()
    assert shown[0] == ("example-seminar: 10 of 40 registered attended (25%), and 0 guests; average 60, median 60 min")
    data = json.loads(run("report", "show", "example-seminar", "--json").stdout)
    assert (data["attendees"], len(data["people"])) == (10, 10)
    out = tmp_path / "attendance.csv"
    assert run("report", "export", "example-seminar", "--csv", str(out)).exit_code == 0
    assert out.read_bytes().startswith("\ufeffname,".encode())
    draft = run("report", "draft", "example-seminar").stdout
    assert "- 参加者：10名（申込 40名）" in draft


def test_report_before_fetch(run, held):  # noqa: F811
    result = run("report", "show", "example-seminar")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: no report for example-seminar yet: run `opsflow report fetch example-seminar` after the seminar\n",
    )


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Receiver.received
    server.shutdown()


def test_survey_send_webhook_import_summary_series(run, held, clock, smtp_sink, receiver, tmp_path):  # noqa: F811
    url, received = receiver
    env = {**held, "OPSFLOW_SURVEY_WEBHOOK_URL": url, "OPSFLOW_SURVEY_WEBHOOK_SECRET": "hook-secret-9"}
    clock.advance(minutes=31)
    run("report", "fetch", "example-seminar", env=env)
    dry = run("send", "example-seminar", "survey", "--dry-run", env=env)
    assert [line for line in dry.stdout.splitlines() if line.startswith("(dry run)")] == [
        "(dry run) example-seminar: survey.send would go to 10 people (0 already had it)",
        "(dry run) example-seminar: survey.followup would go to 30 people (0 already had it)",
    ]
    assert received == []

    sent = run("send", "example-seminar", "survey", env=env)
    assert sent.exit_code == 0, sent.output
    assert len(smtp_sink.received) == 40
    ((headers, body),) = received
    assert verify_signature("hook-secret-9", headers["X-Opsflow-Timestamp"], body, headers["X-Opsflow-Signature"])
    payload = json.loads(body)
    assert len(payload["recipients"]) == 40 and sum(r["attended"] for r in payload["recipients"]) == 10
    assert "hook-secret-9" not in sent.output
    run("send", "example-seminar", "survey", env=env)
    assert len(received) == 1  # the webhook, like mail, goes once

    people = json.loads(run("registrants", "list", "example-seminar", "--json").stdout)
    answers = tmp_path / "answers.csv"
    answers.write_text("email,ご感想\n" + f"{people[0]['email']},よかった\n", encoding="utf-8")
    imported = run("survey", "import", "example-seminar", str(answers))
    assert imported.stdout.startswith("example-seminar: 1 answers matched (0 by token, 1 by email)")

    preview = run("summary", "example-seminar", env=env).stdout
    assert preview.startswith("Subject: ") and "よかった" in preview
    mailed = run("summary", "example-seminar", "--send", env=env)
    assert mailed.stdout == "example-seminar: summary sent to 1 (0 had it already)\n"

    series = run("series", "publitech-seminar", "--csv", str(tmp_path / "s.csv"))
    organizations = {p["organization"] for p in people[:10]}  # the first ten registered are the ones who came
    assert series.stdout.splitlines()[0] == (
        f"publitech-seminar: 1 seminars, 0 repeat attendees, {len(organizations)} organizations reached"
    )
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbfid,start_at")


def test_unknown_series(run):  # noqa: F811
    result = run("series", "nope")
    assert (result.exit_code, result.stderr) == (2, "Error: no seminars of the series 'nope': known series are none\n")


def test_survey_import_without_matching_columns(run, held, tmp_path):  # noqa: F811
    answers = tmp_path / "answers.csv"
    answers.write_text("満足度,ご感想\n5,よかった\n", encoding="utf-8")
    result = run("survey", "import", "example-seminar", str(answers))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {answers}:1: no token or email column to match answers to people; the columns "
        "are: 満足度, ご感想; put {token} or {email} in the survey URL so the form records it\n"
    )


def test_a_webhook_url_with_a_token_is_never_shown(run, held, clock, smtp_sink):  # noqa: F811
    env = {
        **held,
        "OPSFLOW_SURVEY_WEBHOOK_URL": "http://hook:tok-secret-55@127.0.0.1:9/hook",
        "OPSFLOW_SURVEY_WEBHOOK_SECRET": "hook-secret-9",
    }
    clock.advance(minutes=31)
    run("report", "fetch", "example-seminar", env=env)
    sent = run("send", "example-seminar", "survey", env=env)
    assert sent.exit_code == 1
    assert sent.stderr == (
        "Error: the survey webhook http://hook:***@127.0.0.1:9/hook could not be reached "
        "(ConnectionError); it is tried again at the next run\n"
    )
    listed = run("deliveries", "example-seminar", "--json", env=env).stdout
    assert "tok-secret-55" not in sent.output + listed
    assert len(smtp_sink.received) == 40  # the mails went out; only the webhook waits


def test_summary_json_and_dry_run(run, held, clock, smtp_sink):  # noqa: F811
    clock.advance(minutes=31)
    assert run("report", "fetch", "example-seminar", env=held).exit_code == 0
    figures = json.loads(run("summary", "example-seminar", "--json", env=held).stdout)
    assert (figures["event"], figures["to"]) == ("example-seminar", ["seminar-staff@example.jp"])
    assert (figures["summary"]["registrations"], figures["summary"]["attendees"]) == (40, 10)
    assert "example-seminar-attendance.csv" in figures["attachments"]

    dry = run("summary", "example-seminar", "--send", "--dry-run", env=held)
    assert (dry.exit_code, dry.stdout) == (
        0,
        "(dry run) example-seminar: summary would go to 1 (0 had it already)\n  seminar-staff@example.jp\n",
    )
    assert smtp_sink.received == []
    assert json.loads(run("deliveries", "example-seminar", "--json").stdout) == []  # no ledger row claimed

    sent = json.loads(run("summary", "example-seminar", "--send", "--json", env=held).stdout)
    assert (sent["message"], sent["dry_run"], sent["sent"]) == ("summary.staff", False, ["seminar-staff@example.jp"])
    assert len(smtp_sink.to("seminar-staff@example.jp")) == 1
    again = json.loads(run("summary", "example-seminar", "--send", "--dry-run", "--json", env=held).stdout)
    assert (again["dry_run"], again["would_send"], again["already_sent"]) == (True, [], 1)


def test_csv_dash_prints_it(run, held, clock, tmp_path):  # noqa: F811
    clock.advance(minutes=31)
    run("report", "fetch", "example-seminar", env=held)
    printed = run("report", "export", "example-seminar", "--csv", "-")
    assert printed.exit_code == 0 and printed.stdout_bytes.startswith("\ufeffname,".encode())
    assert "written to" not in printed.stdout
    run("report", "export", "example-seminar", "--csv", "attendance.csv")
    assert (tmp_path / "attendance.csv").read_bytes() == printed.stdout_bytes
    table = run("series", "publitech-seminar", "--csv", "-")
    assert table.stdout_bytes.decode("utf-8-sig").splitlines()[0].startswith("id,start_at,registrations")
    assert len(table.stdout_bytes.decode("utf-8-sig").splitlines()) == 2
    both = run("series", "publitech-seminar", "--csv", "-", "--json")
    assert both.exit_code == 2 and "--csv - and --json would both print to stdout" in both.stderr

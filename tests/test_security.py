"""Security: secrets never leave opsflow (output, logs, database, outbox), templates cannot reach
Python, registrants cannot inject HTML, and webhook signatures are checked in constant time."""

from __future__ import annotations

import base64
import http.server
import inspect
import json
import threading
import traceback
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsflow.cli.main import cli
from opsflow.sandbox.chat import FakeChat
from opsflow.sandbox.zoom import FakeZoom
from opsflow.after.webhook import signature, verify_signature

from .faults import collect_opsflow_logs, write_registrants

MAIL_FROM = "パブリテックセミナー事務局 <seminar@example.jp>"


@pytest.fixture
def cli_run(tmp_path, monkeypatch):
    """cli_run(*args, **env) -> click Result, in tmp_path with its own database and jobs folder."""
    monkeypatch.chdir(tmp_path)
    base = {"OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}", "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs")}

    def run(*args: str, **env: str):
        return CliRunner().invoke(cli, list(args), env={**base, **env})

    return run


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# --- secrets never leak --------------------------------------------------------------------------

ZOOM_SECRET = "zoomCS-q7XK9pLm2vR4"
WRONG_ZOOM_SECRET = "zoomCS-wrong-Vb8Nt4Hj"
SMTP_PASSWORD = "Sm7p%2FPa55%40w0rd"  # as written in the URL; opsflow logs in with "Sm7p/Pa55@w0rd"
UNREACHABLE_PASSWORD = "unreach-Pw-Hz5Rq1"
WEBHOOK_SECRET = "hookKey-S1gn-Kz9Wd3Tf"
SECRETS = (ZOOM_SECRET, WRONG_ZOOM_SECRET, SMTP_PASSWORD, "Sm7p/Pa55@w0rd", UNREACHABLE_PASSWORD, WEBHOOK_SECRET)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/survey-hook", server.received
    server.shutdown()
    server.server_close()


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_secrets_never_leak(cli_run, tmp_path, example_jobs, smtp_sink, webhook_receiver):
    hook_url, hooks = webhook_receiver
    outbox = tmp_path / "outbox"
    login_url = f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{smtp_sink.port}"  # the sink offers no AUTH
    with FakeZoom(client_secret=ZOOM_SECRET) as zoom:
        good = {"OPSFLOW_ZOOM_ACCOUNT_ID": zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": zoom.client_id,
                "OPSFLOW_ZOOM_CLIENT_SECRET": ZOOM_SECRET, "OPSFLOW_ZOOM_API_URL": zoom.api_url,
                "OPSFLOW_ZOOM_OAUTH_URL": zoom.oauth_url, "OPSFLOW_SMTP_URL": f"file:{outbox}",
                "OPSFLOW_MAIL_FROM": MAIL_FROM, "OPSFLOW_SURVEY_WEBHOOK_URL": hook_url,
                "OPSFLOW_SURVEY_WEBHOOK_SECRET": WEBHOOK_SECRET}
        wrong_zoom = {**good, "OPSFLOW_ZOOM_CLIENT_SECRET": WRONG_ZOOM_SECRET}
        bad_login = {**good, "OPSFLOW_SMTP_URL": login_url}
        unreachable = {**good, "OPSFLOW_SMTP_URL": f"smtps://mailer:{UNREACHABLE_PASSWORD}@127.0.0.1:9"}
        dead_hook = {**good, "OPSFLOW_SURVEY_WEBHOOK_URL": "http://127.0.0.1:9/survey-hook"}
        event = "example-seminar"
        session = [  # (what, arguments, environment, expected exit code)
            ("validate", ["validate", "--json"], good, 0),
            ("plan", ["plan", "--json"], good, 0),
            ("apply", ["apply", "--json"], good, 0),
            ("doctor, login refused", ["doctor"], bad_login, 1),
            ("zoom create", ["zoom", "create", event, "--json"], good, 0),
            ("zoom show", ["zoom", "show", event, "--remote", "--json"], good, 0),
            ("registrants sync", ["registrants", "sync", event, "--json"], good, 0),
            ("send to the outbox", ["send", event, "invitation", "--json"], good, 0),
            ("send, login refused", ["send", event, "mail.reminder.1d", "--no-sync"], bad_login, 1),
            ("send, unreachable", ["send", event, "mail.reminder.1d", "--no-sync", "--json"], unreachable, 1),
            ("run-due, login refused", ["run-due", "--now", "2027-01-20T18:00:00+09:00"], bad_login, 0),
            ("zoom, wrong secret", ["zoom", "show", event, "--remote"], wrong_zoom, 1),
            ("doctor, everything wrong", ["doctor"], {**wrong_zoom, **unreachable}, 1),
        ]
        results = []
        with collect_opsflow_logs() as logs:
            for what, args, env, code in session:
                results.append((what, cli_run(*args, **env), code))
            (meeting_id,) = zoom.meetings
            people = zoom.registrants(meeting_id)[:10]
            start = datetime.now(timezone.utc) - timedelta(hours=3)
            zoom.end_meeting(meeting_id, ended_at=start + timedelta(minutes=90), participants=[
                {"name": p["last_name"], "user_email": p["email"], "registrant_id": p["id"], "join_time": start,
                 "leave_time": start + timedelta(minutes=60)} for p in people])
            for what, args, env, code in [
                ("report fetch", ["report", "fetch", event, "--json"], good, 0),
                ("survey, webhook down", ["send", event, "survey"], dead_hook, 1),
                ("survey, webhook up", ["send", event, "survey", "--json"], good, 0),
                ("status", ["status"], good, 0),
                ("status json", ["status", event, "--json"], good, 0),
                ("deliveries", ["deliveries", event, "--json"], good, 0),
                ("summary", ["summary", event], good, 0),
                ("run-due dry run", ["run-due", "--dry-run", "--json"], good, 0),
                ("debug, wrong secret", ["--debug", "zoom", "show", event, "--remote"], wrong_zoom, 1),
                ("debug, login refused", ["--debug", "send", event, "mail.reminder.1d", "--no-sync"], bad_login, 1),
            ]:
                results.append((what, cli_run(*args, **env), code))

    for what, result, code in results:
        shown = result.stdout + result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            shown += "".join(traceback.format_exception(*result.exc_info))  # what --debug prints
        assert result.exit_code == code, (what, result.output, result.exception)
        assert _leaks(shown) == [], (what, shown)
    assert logs.lines and _leaks("\n".join(logs.lines)) == []

    # the secrets were in use: Zoom accepted one, the mail server was asked to log in, the hook was signed
    by_name = {what: result for what, result, _ in results}
    assert by_name["zoom create"].exit_code == 0
    assert f"smtp://mailer:***@127.0.0.1:{smtp_sink.port}" in by_name["send, login refused"].stderr
    assert "Zoom refused the app credentials" in by_name["zoom, wrong secret"].stderr
    (headers, body), = hooks
    assert verify_signature(WEBHOOK_SECRET, headers["X-Opsflow-Timestamp"], body, headers["X-Opsflow-Signature"])
    assert _leaks(json.dumps(headers) + body.decode()) == []

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("opsflow.db") for p in files) and len(list(outbox.glob("*.eml"))) >= 40
    for path in files:  # the database (and its WAL), every mail in the outbox, anything else written
        assert [s for s in SECRETS if s.encode() in _readable(path)] == [], path


def _readable(path: Path) -> bytes:
    """The file's bytes; for a mail also every part decoded (bodies are base64 or quoted-printable)."""
    data = path.read_bytes()
    if path.suffix != ".eml":
        return data
    message = message_from_bytes(data, policy=default_policy)
    parts = [part.get_payload(decode=True) or b"" for part in message.walk() if not part.is_multipart()]
    return b"\n".join([data, str(message).encode(), *parts])


# --- a unique password in every credential-bearing setting, through every command ----------------

# One password per setting that can carry one; each is used where the setting works and where it fails.
PASSWORDS = {
    "OPSFLOW_ZOOM_CLIENT_SECRET": "zoomCS-Uq1-Lr8Hs",
    "OPSFLOW_SMTP_URL": "smtpPw-Uq2%2FWk4",  # as written in the URL; opsflow logs in with "smtpPw-Uq2/Wk4"
    "OPSFLOW_DATABASE_URL": "dbPw-Uq3-Tz6Pb",
    "OPSFLOW_SURVEY_WEBHOOK_URL": "hookPw-Uq4-Vm2Qc",
    "OPSFLOW_SURVEY_WEBHOOK_SECRET": "hookKey-Uq5-Nd7Ry",
    "OPSFLOW_ZOOM_API_URL": "apiPw-Uq6-Gx3Je",
    "OPSFLOW_ZOOM_OAUTH_URL": "oauthPw-Uq7-Ky5Wa",
    "OPSFLOW_LIST_UNSUBSCRIBE": "listPw-Uq8-Fb9Ut",
}
WRONG_ZOOM_PASSWORD = "zoomCS-wrong-Uq9-Cz1"
CHAT_TOKEN = "chatTok-Uq10-Hn4Rz"  # the staff chat webhook: its path is the credential
EVERY_PASSWORD = (*PASSWORDS.values(), "smtpPw-Uq2/Wk4", WRONG_ZOOM_PASSWORD, CHAT_TOKEN)


def _with_password(url: str, password: str, user: str = "ops") -> str:
    """`url` with `user:password@` in front of its host."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest.split('@')[-1]}"


@pytest.fixture
def credential_database(request, tmp_path) -> str:
    """PostgreSQL with a password in its URL when it is configured (it accepts and ignores it), else SQLite."""
    from .conftest import PG_URL

    if not PG_URL:
        return f"sqlite:///{tmp_path / 'opsflow.db'}"
    url = request.getfixturevalue("pg_url")
    return _with_password(url, PASSWORDS["OPSFLOW_DATABASE_URL"], user=url.split("://")[1].split("@")[0])


def test_no_password_of_any_setting_shows_anywhere(cli_run, tmp_path, example_jobs, smtp_sink, webhook_receiver,
                                                  credential_database):
    """Every command with every password in use, then every command that reads a setting with it wrong;
    no password is in any output (with --debug too), log, database, outbox or file written."""
    from .test_cli import _commands

    hook_url, hooks = webhook_receiver
    outbox, event = tmp_path / "outbox", "example-seminar"
    pw = PASSWORDS
    answers = tmp_path / "answers.csv"
    with FakeZoom(client_secret=pw["OPSFLOW_ZOOM_CLIENT_SECRET"]) as zoom, FakeChat() as chat:
        good = {"OPSFLOW_DATABASE_URL": credential_database,
                "OPSFLOW_ZOOM_ACCOUNT_ID": zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": zoom.client_id,
                "OPSFLOW_ZOOM_CLIENT_SECRET": pw["OPSFLOW_ZOOM_CLIENT_SECRET"], "OPSFLOW_ZOOM_API_URL": zoom.api_url,
                "OPSFLOW_ZOOM_OAUTH_URL": zoom.oauth_url, "OPSFLOW_SMTP_URL": f"file:{outbox}",
                "OPSFLOW_MAIL_FROM": MAIL_FROM, "OPSFLOW_LIST_UNSUBSCRIBE": "mailto:seminar@example.jp",
                "OPSFLOW_SURVEY_WEBHOOK_URL": _with_password(hook_url, pw["OPSFLOW_SURVEY_WEBHOOK_URL"], "hook"),
                "OPSFLOW_SURVEY_WEBHOOK_SECRET": pw["OPSFLOW_SURVEY_WEBHOOK_SECRET"],
                "OPSFLOW_STAFF_WEBHOOK_URL": chat.hook("slack", f"/services/T0/B0/{CHAT_TOKEN}")}
        smtp_login = f"smtp://mailer:{pw['OPSFLOW_SMTP_URL']}@127.0.0.1:{smtp_sink.port}"  # the sink offers no AUTH
        wrong = {  # (what, the setting wrong, a command that reads it, its exit code)
            "smtp login": ({"OPSFLOW_SMTP_URL": smtp_login}, ["send", event, "mail.reminder.1d", "--no-sync"], 1),
            "smtp unreachable": ({"OPSFLOW_SMTP_URL": f"smtps://mailer:{pw['OPSFLOW_SMTP_URL']}@127.0.0.1:9"},
                                 ["send", event, "mail.reminder.1d", "--no-sync"], 1),
            "smtp port": ({"OPSFLOW_SMTP_URL": f"smtp://mailer:{pw['OPSFLOW_SMTP_URL']}@127.0.0.1:99999"},
                          ["send", event, "mail.reminder.1d", "--no-sync"], 2),
            "smtp scheme": ({"OPSFLOW_SMTP_URL": f"imap://mailer:{pw['OPSFLOW_SMTP_URL']}@[::1"},
                            ["send", event, "mail.reminder.1d", "--no-sync"], 2),
            "database down": ({"OPSFLOW_DATABASE_URL": f"postgresql+psycopg://ops:{pw['OPSFLOW_DATABASE_URL']}"
                                                       "@127.0.0.1:9/ops?connect_timeout=2"}, ["status"], 1),
            "database port": ({"OPSFLOW_DATABASE_URL": f"postgresql+psycopg://ops:{pw['OPSFLOW_DATABASE_URL']}"
                                                       "@db.example.jp:abc/ops"}, ["apply"], 2),
            "webhook down": ({"OPSFLOW_SURVEY_WEBHOOK_URL": f"http://hook:{pw['OPSFLOW_SURVEY_WEBHOOK_URL']}"
                                                            "@127.0.0.1:9/in"}, ["send", event, "survey"], 1),
            "webhook scheme": ({"OPSFLOW_SURVEY_WEBHOOK_URL": f"ftp://hook:{pw['OPSFLOW_SURVEY_WEBHOOK_URL']}"
                                                              "@survey.example.jp/in"}, ["send", event, "survey"], 2),
            "staff chat scheme": ({"OPSFLOW_STAFF_WEBHOOK_URL": f"ftp://hooks.example.jp/services/{CHAT_TOKEN}"},
                                  ["chat", "test"], 2),
            "staff chat down": ({"OPSFLOW_STAFF_WEBHOOK_URL": f"http://127.0.0.1:9/services/T0/B0/{CHAT_TOKEN}"},
                                ["chat", "test"], 1),
            "zoom secret": ({"OPSFLOW_ZOOM_CLIENT_SECRET": WRONG_ZOOM_PASSWORD},
                            ["zoom", "show", event, "--remote"], 1),
            "zoom api url": ({"OPSFLOW_ZOOM_API_URL": _with_password(zoom.api_url, pw["OPSFLOW_ZOOM_API_URL"])},
                             ["zoom", "show", event, "--remote"], 2),
            "zoom api scheme": ({"OPSFLOW_ZOOM_API_URL": f"ftp://zoom:{pw['OPSFLOW_ZOOM_API_URL']}@api.zoom.us/v2"},
                                ["registrants", "sync", event], 2),
            "zoom oauth url": ({"OPSFLOW_ZOOM_OAUTH_URL": _with_password(zoom.oauth_url, pw["OPSFLOW_ZOOM_OAUTH_URL"])},
                               ["zoom", "show", event, "--remote"], 2),
            "list unsubscribe": ({"OPSFLOW_LIST_UNSUBSCRIBE": f"https://list:{pw['OPSFLOW_LIST_UNSUBSCRIBE']}"
                                                              "@lists.example.jp/u"},
                                 ["send", event, "mail.reminder.1d", "--no-sync"], 2),
        }
        results = []

        def run(what: str, args: list[str], env: dict[str, str], code: int) -> None:
            results.append((what, args, cli_run(*args, **env), code))

        with collect_opsflow_logs() as logs:
            for args, code in [
                (["validate", "--json"], 0), (["plan", "--json"], 0), (["apply", "--json"], 0), (["doctor"], 0),
                (["zoom", "create", event, "--json"], 0), (["zoom", "show", event, "--remote", "--json"], 0),
                (["zoom", "update", event, "--dry-run"], 0), (["registrants", "import", event, "--json"], 0),
                (["registrants", "add", event, "late@city.example.lg.jp", "--name", "遅 参加"], 0),
                (["registrants", "cancel", event, "late@city.example.lg.jp"], 0),
                (["registrants", "sync", event, "--json"], 0), (["registrants", "list", event, "--json"], 0),
                (["preview", event, "invitation"], 0), (["send", event, "invitation", "--json"], 0),
                (["deliveries", event, "--json"], 0), (["deliveries", "list", event], 0),
                (["deliveries", "resolve", event, "--as-sent"], 0), (["chat", "test", "--json"], 0),
            ]:
                run("good", args, good, code)
            for what, (change, args, code) in wrong.items():
                if what.startswith("webhook"):
                    continue  # the survey needs the report: below
                run(what, args, {**good, **change}, code)
                run(f"{what}, --debug", ["--debug", *args], {**good, **change}, 1)  # the traceback, exit code 1

            (meeting_id,) = zoom.meetings
            people = zoom.registrants(meeting_id)[:10]
            start = datetime.now(timezone.utc) - timedelta(hours=3)
            zoom.end_meeting(meeting_id, ended_at=start + timedelta(minutes=90), participants=[
                {"name": p["last_name"], "user_email": p["email"], "registrant_id": p["id"], "join_time": start,
                 "leave_time": start + timedelta(minutes=60)} for p in people])
            answers.write_text("メールアドレス,ご意見\n" + "".join(f"{p['email']},よかった\n" for p in people[:5]),
                               encoding="utf-8")
            run("good", ["report", "fetch", event, "--json"], good, 0)
            for what in ("webhook scheme", "webhook down"):
                change, args, code = wrong[what]
                run(what, args, {**good, **change}, code)
                run(f"{what}, --debug", ["--debug", *args], {**good, **change}, 1)  # the traceback, exit code 1
            for args, code in [
                (["send", event, "survey", "--json"], 0),
                (["report", "show", event, "--json"], 0),
                (["report", "export", event, "--csv", str(tmp_path / "a.csv")], 0),
                (["report", "draft", event, "--output", str(tmp_path / "draft.md")], 0),
                (["survey", "import", event, str(answers), "--json"], 0), (["summary", event], 0),
                (["summary", event, "--send"], 0), (["series", "publitech-seminar", "--json"], 0),
                (["run-due", "--dry-run", "--json"], 0), (["run-due"], 0), (["status"], 0),
                (["status", event, "--json"], 0),
                (["registrants", "purge", event, "--older-than", "0d", "--dry-run"], 2),  # the seminar is ahead
                (["zoom", "delete", event, "--dry-run"], 0), (["demo", "--output", str(tmp_path / "demo")], 0),
                (["speakers", event, "--json"], 0), (["recording", "fetch", event, "--dry-run", "--json"], 1),  # none: the meeting was not recorded
                (["recording", "show", event, "--json"], 0),
            ]:
                run("good", args, good, code)
            everything_wrong = {k: v for change, _, _ in wrong.values() for k, v in change.items()}
            run("doctor, everything wrong", ["doctor"], {**good, **everything_wrong}, 1)
        scheduler = _scheduler_output(tmp_path, good)

    for what, args, result, code in results:
        shown = result.stdout + result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            shown += "".join(traceback.format_exception(*result.exc_info))  # what --debug prints
        assert result.exit_code == code, (what, args, result.output, result.exception)
        assert [p for p in EVERY_PASSWORD if p in shown] == [], (what, args, shown)
    assert logs.lines and [p for p in EVERY_PASSWORD if p in "\n".join(logs.lines)] == []
    assert scheduler and [p for p in EVERY_PASSWORD if p in scheduler] == [], scheduler

    commands = {name for name, command in _commands() if not hasattr(command, "commands")}
    ran = {"scheduler"}
    for _, args, _, _ in results:
        words = [a for a in args if a != "--debug"]
        ran.add(" ".join(words[:2]) if " ".join(words[:2]) in commands else words[0])
    assert commands - ran == set(), "every command ran"

    # the passwords were in use: Zoom took the secret, the hook got its user and password and was signed
    assert zoom.tokens_issued >= 1
    (headers, body), = hooks
    assert headers["Authorization"] == "Basic " + base64.b64encode(
        f"hook:{pw['OPSFLOW_SURVEY_WEBHOOK_URL']}".encode()).decode()
    assert verify_signature(pw["OPSFLOW_SURVEY_WEBHOOK_SECRET"], headers["X-Opsflow-Timestamp"], body,
                            headers["X-Opsflow-Signature"])
    del headers["Authorization"]
    assert [p for p in EVERY_PASSWORD if p in json.dumps(headers) + body.decode()] == []

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(list(outbox.glob("*.eml"))) >= 40 and (tmp_path / "draft.md").is_file()
    for path in files:  # the database (and its WAL), every mail, the exports, the demo, anything written
        assert [p for p in EVERY_PASSWORD if p.encode() in _readable(path)] == [], path
    assert [p for p in EVERY_PASSWORD if p in _database_text(credential_database)] == []


def _scheduler_output(folder: Path, env: dict[str, str]) -> str:
    """`opsflow scheduler` run for a few seconds with these settings, then stopped: everything it printed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-m", "opsflow", "scheduler", "--poll", "1"], cwd=folder,
                               env={**os.environ, **env, "OPSFLOW_JOBS_DIR": str(folder / "jobs")},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output + f"\nexit {process.returncode}"


def _database_text(url: str) -> str:
    """Every row of every table of the database, as text."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return "\n".join(str(row) for name in names
                             for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
    finally:
        engine.dispose()


# --- templates cannot reach Python ---------------------------------------------------------------

def _template_folder(tmp_path: Path, text_block: str) -> Path:
    folder = tmp_path / "mytemplates"
    (folder / "ja").mkdir(parents=True, exist_ok=True)
    (folder / "ja" / "invitation.j2").write_text(
        "{% block subject %}件名{% endblock %}\n"
        f"{{% block text %}}{text_block}{{% endblock %}}\n"
        "{% block html %}<p>本文</p>{% endblock %}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ event.__class__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__['sys'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ recipient|attr('__class__') }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(event) }}",
    "{% include '../../../../../../../../etc/passwd' %}",
])
def test_templates_cannot_reach_python_or_files(cli_run, tmp_path, example_jobs, payload):
    folder = _template_folder(tmp_path, payload)
    result = cli_run("validate", OPSFLOW_TEMPLATES_DIR=str(folder))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"Error: {folder / 'ja' / 'invitation.j2'}:2: cannot render the text block: ")
    assert "<class" not in result.stderr and "root:" not in result.stderr and "uid=" not in result.stderr
    _no_traceback(result)


@pytest.mark.parametrize("payload", ["{{ range(10**9)|list|length }}", "{{ 1 / 0 }}", "{{ recipient.name + 1 }}"])
def test_a_template_that_fails_while_rendering_is_a_template_error(cli_run, tmp_path, example_jobs, payload):
    folder = _template_folder(tmp_path, payload)
    result = cli_run("validate", OPSFLOW_TEMPLATES_DIR=str(folder))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {folder / 'ja' / 'invitation.j2'}")
    _no_traceback(result)


# --- registrant-provided text is escaped in HTML -------------------------------------------------

HOSTILE = (
    ("<script>alert(1)</script>", "script@city.example.lg.jp", "<img src=x onerror=alert(2)>"),
    ('"><svg onload=alert(3)>', "svg@city.example.lg.jp", "市&町"),
)


def test_registrant_names_are_escaped_in_html(cli_run, tmp_path, example_jobs):
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace("registration = true",
                                                                            "registration = false"), encoding="utf-8")
    write_registrants(example_jobs.parent / "registrants" / "example-seminar.csv", 3, extra=HOSTILE)
    assert cli_run("apply").exit_code == 0
    assert cli_run("registrants", "import", "example-seminar").exit_code == 0

    html = cli_run("preview", "example-seminar", "invitation", "--to", "script@city.example.lg.jp", "--format", "html")
    assert html.exit_code == 0, html.output
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.stdout and "<script" not in html.stdout.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in html.stdout and "<img" not in html.stdout.lower()
    text = cli_run("preview", "example-seminar", "invitation", "--to", "script@city.example.lg.jp")
    assert "<script>alert(1)</script> 様" in text.stdout  # plain text shows the name as written

    outbox = tmp_path / "outbox"
    sent = cli_run("send", "example-seminar", "invitation", "--no-sync", OPSFLOW_SMTP_URL=f"file:{outbox}",
                   OPSFLOW_MAIL_FROM=MAIL_FROM)
    assert sent.exit_code == 0, sent.output
    messages = {m["To"].addresses[0].addr_spec: m for m in
                (message_from_bytes(p.read_bytes(), policy=default_policy) for p in outbox.glob("*.eml"))}
    for _, email, _ in HOSTILE:
        body = messages[email].get_body(("html",)).get_content().lower()
        assert "<script" not in body and "<svg" not in body and "<img" not in body
    assert "&#34;&gt;&lt;svg onload=alert(3)&gt;" in messages["svg@city.example.lg.jp"].get_body(("html",)).get_content()


# --- webhook signatures --------------------------------------------------------------------------

def test_signature_check_is_constant_time_and_exact():
    source = inspect.getsource(verify_signature)
    code = source.split('"""')[-1]  # the body after the docstring
    assert "hmac.compare_digest(" in code
    assert "==" not in code and "!=" not in code

    secret, stamp, body = "hook-secret", "1795000000", b'{"event": "example-seminar"}'
    good = signature(secret, stamp, body)
    assert good.startswith("sha256=") and len(good) == len("sha256=") + 64
    assert verify_signature(secret, stamp, body, good) is True
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    for header in (flipped, good.removeprefix("sha256="), good.upper(), "", "sha256=",
                   signature("other-secret", stamp, body), signature(secret, "1795000001", body),
                   signature(secret, stamp, body + b" ")):
        assert verify_signature(secret, stamp, body, header) is False, header


def test_a_signature_header_with_non_ascii_text_is_rejected_not_raised():
    assert verify_signature("hook-secret", "1795000000", b"{}", "sha256=é") is False

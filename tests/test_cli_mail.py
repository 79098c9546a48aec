"""`opsflow send`, `preview` and `deliveries` through the CLI, against a real SMTP server on loopback."""

from __future__ import annotations

import email
import json
from email.policy import default

import pytest

from .test_cli import NOW, run  # noqa: F401  (the `run` fixture)


@pytest.fixture
def mail_env(smtp_sink) -> dict:
    return {
        "OPSFLOW_SMTP_URL": smtp_sink.url,
        "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
        "OPSFLOW_ORGANIZER": "パブリテックセミナー事務局",
    }


@pytest.fixture
def ready(run, example_jobs, mail_env):  # noqa: F811
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace("registration = true", "registration = false"),
        encoding="utf-8",
    )
    assert run("apply", "--now", NOW).exit_code == 0
    assert run("registrants", "import", "example-seminar").exit_code == 0
    return example_jobs


def test_send_dry_run_then_send_then_nothing(run, ready, mail_env, smtp_sink):  # noqa: F811
    dry = run("send", "example-seminar", "invitation", "--dry-run", env=mail_env)
    assert dry.exit_code == 0, dry.output
    assert (
        dry.stdout.splitlines()[0]
        == "(dry run) example-seminar: mail.invitation would go to 40 people (0 already had it)"
    )
    assert smtp_sink.received == []

    sent = run("send", "example-seminar", "invitation", env=mail_env)
    assert (sent.exit_code, sent.stdout) == (
        0,
        "example-seminar: mail.invitation: 40 sent, 0 had it already, 0 deferred, 0 failed, 0 ambiguous\n",
    )
    again = run("send", "example-seminar", "invitation", env=mail_env)
    assert again.stdout.startswith("example-seminar: mail.invitation: 0 sent, 40 had it already")
    assert len(smtp_sink.received) == 40


def test_failed_recipient_exits_1_and_is_listed(run, ready, mail_env, smtp_sink):  # noqa: F811
    smtp_sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    result = run("send", "example-seminar", "mail.reminder.1d", env=mail_env)
    assert result.exit_code == 1
    assert "  failed     t-yamada@city.kaga.lg.jp: 550 5.1.1 No such user" in result.stdout.splitlines()
    listed = json.loads(run("deliveries", "example-seminar", "--state", "failed", "--json").stdout)
    assert [(d["recipient"], d["message"], d["error"]) for d in listed] == [
        ("t-yamada@city.kaga.lg.jp", "mail.reminder.1d", "550 5.1.1 No such user")
    ]


def test_reminder_is_ambiguous_between_two(run, ready, mail_env):  # noqa: F811
    result = run("send", "example-seminar", "reminder", env=mail_env)
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: example-seminar has several reminder mails: name one of mail.reminder.1d, mail.reminder.1h\n",
    )


def test_send_to_someone_not_registered(run, ready, mail_env):  # noqa: F811
    result = run("send", "example-seminar", "invitation", "--to", "nobody@example.jp", env=mail_env)
    assert result.exit_code == 2 and result.stderr.startswith("Error: nobody@example.jp does not get mail.invitation")


def test_missing_smtp_setting(run, ready):  # noqa: F811
    result = run("send", "example-seminar", "invitation", env={"OPSFLOW_MAIL_FROM": "seminar@example.jp"})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: OPSFLOW_SMTP_URL is not set: put where mail goes")


def test_preview_text_and_eml(run, ready, mail_env):  # noqa: F811
    text = run("preview", "example-seminar", "invitation", "--to", "k-takahashi@city.itoshima.lg.jp", env=mail_env)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0].startswith("Subject: 【ご案内】パブリテックセミナー vol.3")
    assert "髙橋 健一 様" in lines
    raw = run("preview", "example-seminar", "mail.reminder.1h", "--format", "eml", env=mail_env).stdout_bytes
    message = email.message_from_bytes(raw, policy=default)
    assert message["Subject"].startswith("【リマインド】")
    assert [p.get_content_type() for p in message.iter_attachments()] == ["text/calendar"]
    html = run("preview", "example-seminar", "invitation", "--format", "html", env=mail_env).stdout
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_ambiguous_delivery_resolved(run, ready, mail_env, smtp_sink):  # noqa: F811
    smtp_sink.faults.drop_after_data = 1
    sent = run("send", "example-seminar", "invitation", env=mail_env)
    assert sent.exit_code == 1
    (ambiguous,) = json.loads(run("deliveries", "example-seminar", "--state", "ambiguous", "--json").stdout)
    resolved = run("deliveries", "resolve", "example-seminar", "--as-sent", "--to", ambiguous["recipient"])
    assert resolved.stdout == "example-seminar: 1 ambiguous deliveries marked sent\n"
    assert json.loads(run("deliveries", "example-seminar", "--state", "ambiguous", "--json").stdout) == []
    both = run("deliveries", "resolve", "example-seminar", "--as-sent", "--resend")
    assert both.exit_code == 2 and "give exactly one of --as-sent or --resend" in both.stderr


def test_validate_renders_the_templates(run, ready, tmp_path):  # noqa: F811
    own = tmp_path / "own" / "ja"
    own.mkdir(parents=True)
    (own / "reminder.j2").write_text(
        "{% block subject %}{{ event.titel }}{% endblock %}"
        "{% block text %}x{% endblock %}{% block html %}x{% endblock %}",
        encoding="utf-8",
    )
    result = run("validate", env={"OPSFLOW_TEMPLATES_DIR": str(tmp_path / "own")})
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {own / 'reminder.j2'}:1: cannot render the subject block: 'dict object' has no attribute 'titel'\n"
    )


def test_ambiguous_delivery_resent_on_request(run, ready, mail_env, smtp_sink):  # noqa: F811
    smtp_sink.faults.drop_after_data = 1
    run("send", "example-seminar", "invitation", env=mail_env)
    (ambiguous,) = json.loads(run("deliveries", "example-seminar", "--state", "ambiguous", "--json").stdout)
    result = run("deliveries", "resolve", "example-seminar", "--resend", env=mail_env)
    assert result.stdout.splitlines() == [
        "example-seminar: 1 ambiguous deliveries marked to send again",
        "example-seminar: mail.invitation: 1 sent again",
    ]
    assert len(smtp_sink.to(ambiguous["recipient"])) == 2  # the organizer chose to send it again
    table = run("deliveries", "example-seminar").stdout.splitlines()
    assert len(table) == 40 and all(" sent " in line for line in table)


def test_status_points_out_ambiguous_deliveries(run, ready, mail_env, smtp_sink):  # noqa: F811
    smtp_sink.faults.drop_after_data = 1
    run("send", "example-seminar", "invitation", env=mail_env)
    lines = [line.rstrip() for line in run("status", "example-seminar").stdout.splitlines()]
    assert "  deliveries: 1 ambiguous, 39 sent" in lines
    assert (
        "  1 ambiguous: a crash or a lost connection while sending; see "
        "`opsflow deliveries example-seminar --state ambiguous`"
    ) in lines
    data = json.loads(run("status", "example-seminar", "--json").stdout)
    assert data["events"][0]["deliveries"] == {"ambiguous": 1, "sent": 39}


def test_resolve_dry_run_changes_and_sends_nothing(run, ready, mail_env, smtp_sink):  # noqa: F811
    smtp_sink.faults.drop_after_data = 1
    run("send", "example-seminar", "invitation", env=mail_env)
    (ambiguous,) = json.loads(run("deliveries", "example-seminar", "--state", "ambiguous", "--json").stdout)
    received = len(smtp_sink.received)
    dry = run("deliveries", "resolve", "example-seminar", "--as-sent", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        "(dry run) example-seminar: 1 ambiguous deliveries would be marked sent",
        f"  mail.invitation        {ambiguous['recipient']}",
    ]
    dry_resend = run("deliveries", "resolve", "example-seminar", "--resend", "--dry-run", "--json", env=mail_env)
    assert json.loads(dry_resend.stdout) == {
        "event": "example-seminar",
        "dry_run": True,
        "decision": "resend",
        "changed": 0,
        "deliveries": [{"message": "mail.invitation", "recipient": ambiguous["recipient"]}],
        "resent": [],
        "reposted": [],
    }
    assert len(smtp_sink.received) == received
    assert len(json.loads(run("deliveries", "example-seminar", "--state", "ambiguous", "--json").stdout)) == 1

    resent = run("deliveries", "resolve", "example-seminar", "--resend", "--json", env=mail_env)
    assert resent.exit_code == 0, resent.output
    data = json.loads(resent.stdout)
    assert (data["dry_run"], data["changed"]) == (False, 1)
    assert [(r["message"], r["sent"]) for r in data["resent"]] == [("mail.invitation", [ambiguous["recipient"]])]
    assert len(smtp_sink.received) == received + 1


def test_progress_bar_shows_counts_beside_the_percentage():
    import io

    from rich.console import Console
    from rich.progress import MofNCompleteColumn, TaskProgressColumn

    from opsflow.cli.mail import _progress, progress_columns

    kinds = [type(c) for c in progress_columns()]
    assert kinds.index(MofNCompleteColumn) == kinds.index(TaskProgressColumn) + 1
    screen = io.StringIO()
    bar = _progress(False, console=Console(file=screen, force_terminal=True, width=100))
    with bar as update:
        update(150, 500)
        bar.bar.refresh()
    shown = screen.getvalue()
    assert "150/500" in shown and " 30%" in shown
    assert _progress(True, console=Console(file=io.StringIO())).__enter__() is None  # --json, --dry-run: no bar

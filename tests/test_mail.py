"""Mail through a real SMTP server on loopback: the ledger, MIME and .ics, faults, never twice."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import vobject

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.errors import MailError, NotFoundError, TemplateError
from opsflow.core.jobspec import load_job
from opsflow.mail.ledger import Pace
from opsflow.mail.send import send_mail
from opsflow.mail.transport import SmtpTransport
from opsflow.registrants import sync_registrants
from opsflow.store import open_store

from .conftest import NOW
from .smtp_sink import SmtpSink

SEND_AT = datetime(2027, 1, 7, 1, 0, tzinfo=UTC)  # the invitation's time, 10:00 JST


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def smtp_sink(request):
    """The loopback server with PIPELINING offered and without: every test here runs both ways."""
    with SmtpSink(pipelining=request.param) as sink:
        yield sink


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    yield store
    store.dispose()


@pytest.fixture
def event(store, example_jobs):
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    sync_registrants(store, None, _without_zoom(event), NOW)
    return event


def _without_zoom(event):
    """The example registers people with Zoom; these tests use the meeting-less path."""
    return dataclasses.replace(event, spec=event.spec.model_copy(update={"zoom": None}))


def _settings(url: str, **extra) -> Settings:
    return Settings(smtp_url=Secret(url), mail_from="パブリテックセミナー事務局 <seminar@example.jp>",
                    mail_reply_to="seminar-office@example.jp", organizer="パブリテックセミナー事務局",
                    organizer_contact="seminar@example.jp", **extra)


def _send(store, event, sink, name="invitation", **options):
    return send_mail(store, _settings(sink.url), _without_zoom(event), name, options.pop("now", SEND_AT),
                     sync=False, **options)


def _states(store, key="mail.invitation") -> dict[str, str]:
    with store.read() as conn:
        return {d["recipient"]: d["state"] for d in db.list_deliveries(conn, "example-seminar", message_key=key)}


def test_one_correct_message_per_registrant_and_never_twice(store, event, smtp_sink):
    report = _send(store, event, smtp_sink)
    assert len(report.sent) == 40 and len(smtp_sink.received) == 40
    assert all(len(r.recipients) == 1 for r in smtp_sink.received)  # one mail per person, no BCC blast

    (message,) = smtp_sink.to("k-takahashi@city.itoshima.lg.jp")
    assert message["To"].addresses[0].display_name == "髙橋 健一"
    assert message["From"].addresses[0].display_name == "パブリテックセミナー事務局"
    assert message["Subject"].startswith("【ご案内】パブリテックセミナー vol.3")
    assert message["Reply-To"] == "seminar-office@example.jp"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.jp>") and message["Date"]
    text = message.get_body(("plain",)).get_content()
    assert "髙橋 健一 様" in text and "2027年1月21日(木) 18:00〜19:30" in text
    assert "大野 健太" in text and "「書かない窓口」導入の一年" in text
    html = message.get_body(("html",)).get_content()
    assert "髙橋 健一" in html

    (ics,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = vobject.readOne(ics.get_content())
    assert calendar.vevent.dtstart.value == datetime(2027, 1, 21, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
    assert calendar.vevent.dtstart.value.utcoffset() == timedelta(0)
    assert calendar.vevent.uid.value == "example-seminar@opsflow"
    assert calendar.vevent.sequence.value == "0"

    again = _send(store, event, smtp_sink)
    assert (again.sent, again.already_sent, len(smtp_sink.received)) == ([], 40, 40)
    with store.read() as conn:
        step = next(s for s in db.list_steps(conn, ["example-seminar"]) if s["key"] == "mail.invitation")
    assert step["state"] == "done"


def test_dry_run_lists_and_touches_nothing(store, event, smtp_sink):
    report = _send(store, event, smtp_sink, dry_run=True)
    assert len(report.would_send) == 40 and report.sent == []
    assert smtp_sink.received == [] and _states(store) == {}


def test_refused_recipient_does_not_stop_the_others(store, event, smtp_sink):
    smtp_sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    report = _send(store, event, smtp_sink)
    assert report.failed == [("t-yamada@city.kaga.lg.jp", "550 5.1.1 No such user")]
    assert len(report.sent) == 39 and len(smtp_sink.received) == 39
    assert _states(store)["t-yamada@city.kaga.lg.jp"] == "failed"
    with store.read() as conn:
        step = next(s for s in db.list_steps(conn, ["example-seminar"]) if s["key"] == "mail.invitation")
    assert (step["state"], step["last_error"]) == ("failed", "1 failed")
    assert _send(store, event, smtp_sink).sent == []  # a failed one is not retried on its own


def test_temporary_refusal_is_deferred_then_sent_once(store, event, smtp_sink):
    smtp_sink.faults.defer["t-yamada@city.kaga.lg.jp"] = "451 4.7.1 Try again later"
    report = _send(store, event, smtp_sink)
    assert report.deferred == [("t-yamada@city.kaga.lg.jp", "451 4.7.1 Try again later")]
    assert _send(store, event, smtp_sink, now=SEND_AT + timedelta(minutes=1)).sent == []  # not due yet
    later = _send(store, event, smtp_sink, now=SEND_AT + timedelta(minutes=6))
    assert later.sent == ["t-yamada@city.kaga.lg.jp"]
    assert sorted(r.recipients[0] for r in smtp_sink.received) == sorted(_states(store))  # each exactly once


def test_421_in_the_middle_resumes_without_duplicates(store, event, smtp_sink):
    smtp_sink.faults.data_replies = ["421 4.3.2 Service shutting down"]
    first = _send(store, event, smtp_sink)
    assert len(first.sent) == 39 and len(first.deferred) == 1
    _send(store, event, smtp_sink, now=SEND_AT + timedelta(minutes=10))
    delivered = [r.recipients[0] for r in smtp_sink.received]
    assert len(delivered) == 40 and len(set(delivered)) == 40


def test_dropped_connection_before_data_is_reopened(store, event, smtp_sink):
    smtp_sink.faults.drop_at_rcpt = 2
    report = _send(store, event, smtp_sink)
    assert len(report.sent) == 40
    assert len({r.recipients[0] for r in smtp_sink.received}) == len(smtp_sink.received) == 40


def test_connection_lost_during_data_is_ambiguous_and_not_resent(store, event, smtp_sink):
    smtp_sink.faults.drop_after_data = 1
    report = _send(store, event, smtp_sink)
    assert len(report.ambiguous) == 1 and len(report.sent) == 39
    (ambiguous,) = report.ambiguous
    assert _states(store)[ambiguous] == "sending"
    rerun = _send(store, event, smtp_sink)
    assert rerun.sent == [] and rerun.ambiguous == [ambiguous]
    assert len(smtp_sink.received) == 40  # the server did take it: nobody got two


def test_login_refused_marks_nothing_sent(store, event, smtp_sink):
    url = smtp_sink.url.replace("smtp://", "smtp://mailer:pw-123@")
    with pytest.raises(MailError) as err:
        send_mail(store, _settings(url), _without_zoom(event), "invitation", SEND_AT, sync=False)
    assert "pw-123" not in str(err.value)
    assert str(err.value).startswith(f"the mail server 127.0.0.1:{smtp_sink.port} does not offer what "
                                     f"smtp://mailer:***@127.0.0.1:{smtp_sink.port} asks for")
    assert set(_states(store).values()) == {"pending"} and smtp_sink.received == []


def test_unreachable_server(store, event):
    with pytest.raises(MailError, match=r"^cannot connect to the mail server 127\.0\.0\.1:9 "):
        send_mail(store, _settings("smtp://127.0.0.1:9"), _without_zoom(event), "invitation", SEND_AT, sync=False)
    assert set(_states(store).values()) == {"pending"}


def test_line_break_in_a_name_fails_that_recipient_only(store, event, smtp_sink):
    with store.begin() as conn:
        row = db.get_registrant(conn, "example-seminar", "m-nakamura@city.kaga.lg.jp")
        db.update_registrant(conn, row["id"], {"name": "中村\r\nBcc: victim@example.com"}, NOW)
    report = _send(store, event, smtp_sink)
    assert report.failed == [("m-nakamura@city.kaga.lg.jp", "'m-nakamura@city.kaga.lg.jp': the name contains a "
                              "line break; fix it in the registrants or the template")]
    assert len(smtp_sink.received) == 39
    assert all("victim@example.com" not in r.recipients for r in smtp_sink.received)


def test_template_error_stops_before_the_first_message(store, event, smtp_sink, tmp_path):
    own = tmp_path / "mytemplates" / "ja"
    own.mkdir(parents=True)
    (own / "invitation.j2").write_text("{% block subject %}{{ nope }}{% endblock %}"
                                       "{% block text %}x{% endblock %}{% block html %}x{% endblock %}")
    settings = _settings(smtp_sink.url, templates_dir=tmp_path / "mytemplates")
    with pytest.raises(TemplateError) as err:
        send_mail(store, settings, _without_zoom(event), "invitation", SEND_AT, sync=False)
    assert "invitation.j2:1: cannot render the subject block: 'nope' is undefined" in str(err.value)
    assert smtp_sink.received == [] and _states(store) == {}


def test_file_outbox(store, event, tmp_path):
    outbox = tmp_path / "outbox"
    report = send_mail(store, _settings(f"file:{outbox}"), _without_zoom(event), "invitation", SEND_AT, sync=False)
    assert len(report.sent) == 40 and len(list(outbox.glob("*.eml"))) == 40
    assert not list(outbox.glob("*.tmp"))


def test_outbox_that_cannot_be_made(store, event, tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MailError, match="cannot use the outbox folder"):
        send_mail(store, _settings(f"file:{blocker}"), _without_zoom(event), "invitation", SEND_AT, sync=False)
    assert set(_states(store).values()) == {"pending"}


def test_pacing(store, event, smtp_sink):
    slept = []
    clock = [0.0]

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    send_mail(store, _settings(smtp_sink.url, mail_rate=30.0), _without_zoom(event), "invitation", SEND_AT,
              sync=False, to="t-yamada@city.kaga.lg.jp", clock=lambda: clock[0], sleep=sleep)
    send_mail(store, _settings(smtp_sink.url, mail_rate=30.0), _without_zoom(event), "mail.reminder.1d", SEND_AT,
              sync=False, clock=lambda: clock[0], sleep=sleep)
    assert len(slept) == 39 and all(abs(s - 2.0) < 1e-9 for s in slept)  # 30 a minute: every 2 seconds
    assert Pace(None, lambda: 0.0, sleep).interval == 0.0


def test_killed_mid_batch_leaves_at_most_one_ambiguous(tmp_path, example_jobs, smtp_sink):
    env = {**os.environ, "OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}",
           "OPSFLOW_JOBS_DIR": str(example_jobs.parent), "OPSFLOW_SMTP_URL": smtp_sink.url,
           "OPSFLOW_MAIL_FROM": "seminar@example.jp", "OPSFLOW_MAIL_RATE": "1200"}  # 20 a second
    text = example_jobs.read_text(encoding="utf-8").replace("registration = true", "registration = false")
    example_jobs.write_text(text, encoding="utf-8")  # no Zoom account here: the meeting's link is absent
    command = [sys.executable, "-m", "opsflow"]
    assert subprocess.run([*command, "apply"], env=env, cwd=tmp_path, capture_output=True).returncode == 0
    sender = subprocess.Popen([*command, "send", "example-seminar", "invitation"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(smtp_sink.received) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait()
    assert 10 <= len(smtp_sink.received) < 40

    rerun = subprocess.run([*command, "send", "example-seminar", "invitation", "--json"], env=env, cwd=tmp_path,
                           capture_output=True, text=True)
    data = json.loads(rerun.stdout)
    assert len(data["ambiguous"]) <= 1
    delivered = [r.recipients[0] for r in smtp_sink.received]
    assert len(delivered) == len(set(delivered))  # nobody got two
    missing = {p for p in data["ambiguous"]} - set(delivered)
    assert len(set(delivered)) + len(missing) == 40  # nobody missed except possibly the one ambiguous
    assert rerun.returncode == (1 if data["ambiguous"] else 0)


def test_transport_schemes():
    starttls = SmtpTransport("smtp+starttls://u:p%40ss@mail.example.jp")
    assert (starttls.port, starttls.user, starttls.password) == (587, "u", "p@ss")
    assert SmtpTransport("smtps://mail.example.jp").port == 465
    assert SmtpTransport("smtp://localhost").port == 25


def test_file_outbox_keeps_every_message(store, event, tmp_path):
    outbox = tmp_path / "outbox"
    settings = _settings(f"file:{outbox}")
    send_mail(store, settings, _without_zoom(event), "invitation", SEND_AT, sync=False)
    send_mail(store, settings, _without_zoom(event), "mail.reminder.1d", SEND_AT, sync=False)
    assert len(list(outbox.glob("*.eml"))) == 80  # a second batch never overwrites the first


def test_someone_cancelled_after_the_claim_is_not_sent_to(store, event, smtp_sink):
    """The roster is read as the batch goes: a pending row of a person cancelled since is cancelled."""
    from opsflow.registrants.roster import cancel_person

    stops = iter([False] * 5 + [True] * 100)
    first = _send(store, event, smtp_sink, should_stop=lambda: next(stops))
    assert len(first.sent) == 5 and first.stopped and first.left == 35
    later = next(email for email, state in _states(store).items() if state == "pending")
    cancel_person(store, "example-seminar", later, NOW)
    second = _send(store, event, smtp_sink)
    assert later not in second.sent and _states(store)[later] == "cancelled"
    assert len(second.sent) == 34 and len(smtp_sink.received) == 39


def test_a_change_notice_goes_only_to_those_invited(store, event, smtp_sink):
    invited = ["t-yamada@city.kaga.lg.jp", "k-takahashi@city.itoshima.lg.jp"]
    for email in invited:
        _send(store, event, smtp_sink, to=email)
    report = _send(store, event, smtp_sink, name="change")
    assert report.sent == invited  # in the roster's order
    with pytest.raises(NotFoundError, match="not invited yet for a change notice"):
        _send(store, event, smtp_sink, name="change", to="m-nakamura@city.kaga.lg.jp", resend=True)

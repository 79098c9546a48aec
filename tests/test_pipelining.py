"""The envelope pipelined (RFC 2920) against the real loopback server: refusals of each command, a line
dropped after the pipelined group, another runner taking the row while the group travels, and a
server that says 354 to DATA after refusing the recipient. Each case also without PIPELINING."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import load_job
from opsflow.mail.send import send_mail
from opsflow.registrants import sync_registrants
from opsflow.store import open_store

from .conftest import NOW
from .smtp_sink import SmtpSink

SEND_AT = datetime(2027, 1, 7, 1, 0, tzinfo=UTC)
YAMADA = "t-yamada@city.kaga.lg.jp"  # the first registrant of the example


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def sink(request):
    with SmtpSink(pipelining=request.param) as server:
        yield server


@pytest.fixture
def seminar(db_url, example_jobs):
    store = open_store(db_url)
    event = load_job(example_jobs)
    event = dataclasses.replace(event, spec=event.spec.model_copy(update={"zoom": None}))
    apply_events(store, [event], NOW)
    sync_registrants(store, None, event, NOW)
    yield store, event
    store.dispose()


def _send(seminar, sink, **options):
    store, event = seminar
    settings = Settings(smtp_url=Secret(sink.url), mail_from="seminar@example.jp", organizer="事務局")
    return send_mail(store, settings, event, "invitation", options.pop("now", SEND_AT), sync=False, **options)


def _states(store) -> dict[str, str]:
    with store.read() as conn:
        rows = db.list_deliveries(conn, "example-seminar", message_key="mail.invitation")
    return {d["recipient"]: d["state"] for d in rows}


def _delivered(sink) -> list[str]:
    return [r.recipients[0] for r in sink.received]


def test_the_envelope_goes_in_one_write_when_offered(seminar, sink):
    report = _send(seminar, sink)
    assert len(report.sent) == 40 and sorted(_delivered(sink)) == sorted(report.sent)
    assert sink.connections == 1 and sink.data_commands == 40


def test_a_refused_sender_fails_that_message_and_the_rest_go_out(seminar, sink):
    sink.faults.refuse_sender = ["550 5.7.1 Sender rejected"]
    report = _send(seminar, sink)
    assert report.failed == [(YAMADA, "550 5.7.1 Sender rejected")]
    assert len(report.sent) == 39 and YAMADA not in _delivered(sink)
    assert _states(seminar[0])[YAMADA] == "failed"
    assert sink.connections == 1  # the transaction was reset, the line kept


@pytest.mark.parametrize("reply,state", [("554 5.3.4 Message refused", "failed"), ("451 4.3.0 Try later", "deferred")])
def test_a_refused_data_command_fails_or_defers_that_message(seminar, sink, reply, state):
    sink.faults.data_command_replies = [reply]
    report = _send(seminar, sink)
    assert (report.failed if state == "failed" else report.deferred) == [(YAMADA, reply)]
    assert len(report.sent) == 39 and YAMADA not in _delivered(sink)
    assert _states(seminar[0])[YAMADA] == state and report.ambiguous == []


def test_a_line_dropped_after_the_envelope_is_reopened_and_nothing_is_ambiguous(seminar, sink):
    sink.faults.drop_at_data_command = 2  # the first message, and its first retry
    report = _send(seminar, sink)
    assert len(report.sent) == 40 and report.ambiguous == []
    delivered = _delivered(sink)
    assert len(delivered) == len(set(delivered)) == 40
    assert sink.connections == 3
    assert set(_states(seminar[0]).values()) == {"sent"}


def test_a_line_that_keeps_dropping_after_the_envelope_stops_the_batch_with_nothing_ambiguous(seminar, sink):
    from opsflow.mail.ledger import BatchStopped

    sink.faults.drop_at_data_command = 4  # the message and each of its three retries
    with pytest.raises(BatchStopped) as stopped:
        _send(seminar, sink)
    assert str(stopped.value).startswith("the mail server keeps closing the connection (")
    assert stopped.value.report.counts() == "0 sent, 0 ambiguous, 40 left for the next run"
    assert set(_states(seminar[0]).values()) == {"pending"} and sink.received == []
    assert len(_send(seminar, sink).sent) == 40


def test_a_row_another_runner_takes_while_the_envelope_travels_gets_no_message_from_us(seminar, sink):
    """Between two messages another runner takes the next row: our envelope for it is already on the
    line (with PIPELINING up to DATA), our claim fails, and we hang up without writing the message."""
    store, _ = seminar
    taken: list[str] = []

    def other_runner_takes_the_next(done: int, total: int) -> None:
        if done != 5:
            return
        with store.begin() as conn:
            (row,) = db.deliveries_to_send(conn, "example-seminar", "mail.invitation", SEND_AT, 0, 1)
            assert db.take_delivery(conn, row["id"], SEND_AT)
        taken.append(row["recipient"])

    report = _send(seminar, sink, progress=other_runner_takes_the_next)
    (other,) = taken
    assert other not in report.sent and other not in _delivered(sink)
    assert len(report.sent) == 39 and report.ambiguous == []
    assert _states(store)[other] == "sending"  # the other runner's claim, untouched
    assert sink.connections == 2  # we hung up on that envelope (with PIPELINING, up to its DATA) and started again
    assert all(r.data for r in sink.received)  # and no empty message was taken


def test_a_server_that_says_354_after_refusing_the_recipient_gets_no_message(seminar, sink):
    sink.faults.refuse[YAMADA] = "550 5.1.1 No such user"
    sink.faults.data_without_recipients = ["354 go ahead"]  # a broken server: it would read what follows
    report = _send(seminar, sink)
    assert report.failed == [(YAMADA, "550 5.1.1 No such user")]
    assert len(report.sent) == 39 and len(sink.received) == 39
    assert all(r.data for r in sink.received)
    # without PIPELINING DATA is never sent after a refused recipient
    assert sink.connections == (2 if sink.pipelining else 1)


def test_a_deferred_message_is_sent_once_later_over_a_pipelined_line(seminar, sink):
    sink.faults.defer[YAMADA] = "451 4.7.1 Greylisted"
    first = _send(seminar, sink)
    assert first.deferred == [(YAMADA, "451 4.7.1 Greylisted")]
    with seminar[0].read() as conn:  # the step waits for it, counted in the database
        step = db.get_step(conn, "example-seminar", "mail.invitation")
    assert (step["state"], step["last_error"]) == ("planned", "1 waiting to be sent again")
    assert step["retry_at"] == SEND_AT + timedelta(minutes=5)
    later = _send(seminar, sink, now=SEND_AT + timedelta(minutes=6))
    assert later.sent == [YAMADA]
    delivered = _delivered(sink)
    assert len(delivered) == len(set(delivered)) == 40


def test_an_address_that_is_not_ascii_fails_alone(seminar, sink):
    store, _ = seminar
    with store.begin() as conn:
        db.insert_registrant(conn, "example-seminar", {"email": "山田@city.example.lg.jp", "name": "山田 花子"}, NOW)
    report = _send(seminar, sink)
    assert [email for email, _ in report.failed] == ["山田@city.example.lg.jp"]
    assert "other than ASCII" in report.failed[0][1]
    assert len(report.sent) == 40 and len(sink.received) == 40


SENDERS_JOB = """\
[event]
id = "busy-seminar"
title = "同時送信テスト"
start = 2027-01-21T18:00:00+09:00
duration = "90m"

[registrants]
csv = "registrants/busy.csv"
"""


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-command-at-a-time"])
def test_three_senders_at_once_send_each_message_once(db_url, tmp_path, pipelining):
    """Three `opsflow send` processes on one ledger: the claims race for every row (the losers drop
    their envelope), and each person still gets exactly one message, nobody left in doubt."""
    import json
    import subprocess
    from collections import Counter

    from .faults import OPSFLOW, opsflow_env, run_opsflow, write_registrants

    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "busy-seminar.toml").write_text(SENDERS_JOB, encoding="utf-8")
    everyone = write_registrants(jobs / "registrants" / "busy.csv", 300)
    with SmtpSink(pipelining=pipelining) as sink:
        env = opsflow_env(OPSFLOW_DATABASE_URL=db_url, OPSFLOW_SMTP_URL=sink.url, OPSFLOW_JOBS_DIR=str(jobs),
                          OPSFLOW_MAIL_FROM="seminar@example.jp")
        assert run_opsflow("apply", env=env, cwd=tmp_path).returncode == 0
        assert run_opsflow("registrants", "import", "busy-seminar", env=env, cwd=tmp_path).returncode == 0
        senders = [subprocess.Popen([*OPSFLOW, "send", "busy-seminar", "invitation", "--json"], env=env, cwd=tmp_path,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [sender.communicate(timeout=120) for sender in senders]
        received = list(sink.received)
    assert all(s.returncode in (0, 1) for s in senders), [err for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    delivered = Counter(r.recipients[0] for r in received)
    assert set(delivered) == set(everyone) and max(delivered.values()) == 1  # each exactly once
    sent = sorted(email for report in reports for email in report["sent"])
    assert sent == sorted(everyone)  # and each marked sent by the one that sent it
    # a sender that starts while another has a message in flight lists it as in doubt (exit 1); the
    # other sent it: nothing is left `sending`
    assert {email for report in reports for email in report["ambiguous"]} <= set(sent)
    ledger = json.loads(run_opsflow("deliveries", "busy-seminar", "--json", env=env, cwd=tmp_path).stdout)
    assert Counter(d["state"] for d in ledger) == Counter({"sent": 300})

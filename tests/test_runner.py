"""The runner: a whole seminar driven by a fixed clock against the fake Zoom and a loopback SMTP server;
late and failed steps; several runners at once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import load_job
from opsflow.core.runner import RunContext, run_due
from opsflow.store import open_store

from .conftest import NOW

JST = timezone(timedelta(hours=9))
START = datetime(2027, 1, 21, 18, 0, tzinfo=JST)
END = START + timedelta(minutes=90)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.fixture
def world(tmp_path, example_jobs, zoom, fake_zoom, smtp_sink, db_url):
    store = open_store(db_url)
    settings = Settings(
        smtp_url=Secret(smtp_sink.url),
        mail_from="セミナー事務局 <seminar@example.jp>",
        organizer="パブリテックセミナー事務局",
    )
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    yield store, settings, event
    store.dispose()


def _run(store, settings, zoom, when: datetime, owner: str = "runner-a"):
    return run_due(RunContext(store, settings, when.astimezone(UTC), lambda: zoom, owner=owner))


def _states(store) -> dict[str, str]:
    with store.read() as conn:
        return {s["key"]: s["state"] for s in db.list_steps(conn, ["example-seminar"])}


def _subjects(sink, address: str) -> list[str]:
    return [m["Subject"][:12] for m in sink.to(address)]


def _set_up(store, settings, zoom, sink) -> None:
    """The first run, when the job is applied: the meeting, the registrants and their 受付完了 (40), which
    the sink then forgets, so that a test counts what comes after."""
    _run(store, settings, zoom, NOW)
    assert len(sink.received) == 40 and all(r.message()["Subject"].startswith("【受付完了】") for r in sink.received)
    sink.received.clear()


def test_a_whole_seminar_each_step_at_its_time(world, zoom, fake_zoom, smtp_sink, clock):
    store, settings, event = world
    timeline = [
        (NOW, {"zoom.create", "registrants.sync", "mail.confirmation"}),
        (at("2027-01-07T10:00"), {"mail.invitation"}),
        (at("2027-01-20T18:00"), {"mail.reminder.1d"}),
        (at("2027-01-21T17:00"), {"mail.reminder.1h"}),
    ]
    for when, expected in timeline:
        clock.wall = when.astimezone(UTC)
        results = _run(store, settings, zoom, when)
        assert {r.key for r in results if r.state == "done"} == expected, results
        assert _run(store, settings, zoom, when, owner="runner-b") == []  # a restart changes nothing

    (meeting_id,) = fake_zoom.meetings
    people = fake_zoom.registrants(meeting_id)
    attendees = people[:25]
    clock.wall = END.astimezone(UTC)
    fake_zoom.end_meeting(
        meeting_id,
        ended_at=clock.wall,
        participants=[
            {
                "name": p["last_name"],
                "user_email": p["email"],
                "registrant_id": p["id"],
                "join_time": START.astimezone(UTC),
                "leave_time": END.astimezone(UTC),
            }
            for p in attendees
        ],
    )

    clock.wall = (END + timedelta(minutes=30)).astimezone(UTC)
    results = _run(store, settings, zoom, END + timedelta(minutes=30))
    assert [(r.key, r.state) for r in results] == [("report.fetch", "done"), ("summary.staff", "done")]
    for when, expected in (
        (at("2027-01-22T10:00"), {"survey.send"}),
        (at("2027-01-26T10:00"), {"survey.remind", "summary.staff.survey"}),
    ):
        clock.wall = when.astimezone(UTC)
        assert {r.key for r in _run(store, settings, zoom, when) if r.state == "done"} == expected
        assert _run(store, settings, zoom, when, owner="runner-b") == []

    assert set(_states(store).values()) == {"done"}
    attendee = attendees[0]["email"]
    absent = people[-1]["email"]
    assert _subjects(smtp_sink, attendee) == [
        "【受付完了】パブリテック",
        "【ご案内】パブリテックセ",
        "【リマインド】明日1月2",
        "【リマインド】本日18:",
        "【アンケートのお願い】パ",
        "【再送・アンケートのお願",
    ]
    assert len(smtp_sink.to(absent)) == 5  # confirmation, invitation, two reminders, the follow-up
    assert len(smtp_sink.to("seminar-staff@example.jp")) == 2  # the summary after the report and after the reminder
    counts = Counter((r.recipients[0], r.message()["Subject"]) for r in smtp_sink.received)
    assert max(counts.values()) == 1  # nobody got any message twice


def test_late_reminders_are_missed_and_alerted_once(world, zoom, smtp_sink, clock):
    store, settings, event = world
    late = START + timedelta(minutes=5)
    clock.wall = late.astimezone(UTC)
    results = {r.key: r.state for r in _run(store, settings, zoom, late)}
    assert results == {
        "zoom.create": "done",
        "registrants.sync": "done",
        "mail.invitation": "missed",
        "mail.confirmation": "missed",
        "mail.reminder.1d": "missed",
        "mail.reminder.1h": "missed",
    }
    staff = smtp_sink.to("seminar-staff@example.jp")
    assert len(staff) == 4 and all("mail." in m.get_body(("plain",)).get_content() for m in staff)
    assert [r for r in smtp_sink.received if r.recipients[0] != "seminar-staff@example.jp"] == []
    assert _run(store, settings, zoom, late + timedelta(minutes=1)) == []
    assert len(smtp_sink.to("seminar-staff@example.jp")) == 4


def test_transient_failure_is_retried_then_succeeds(world, zoom, fake_zoom, clock):
    store, settings, event = world
    fake_zoom.fail_next(503, times=6, path="/v2/users/me/meetings")  # outlasts the client's own retries once
    clock.wall = NOW
    first = {r.key: (r.state, r.message) for r in _run(store, settings, zoom, NOW)}
    assert first["zoom.create"][0] == "retry"
    assert first["registrants.sync"] == ("waiting", "waits for zoom.create")
    with store.read() as conn:
        step = db.get_step(conn, "example-seminar", "zoom.create")
    assert step["state"] == "planned" and step["retry_at"] > NOW and "HTTP 503" in step["last_error"]
    assert {r.key: r.state for r in _run(store, settings, zoom, NOW + timedelta(seconds=30))} == {
        "registrants.sync": "waiting",
        "mail.confirmation": "waiting",
    }  # zoom.create is not due again yet
    later = NOW + timedelta(hours=1)
    results = {r.key: r.state for r in _run(store, settings, zoom, later)}
    assert results == {"zoom.create": "done", "registrants.sync": "done", "mail.confirmation": "done"}
    assert len(fake_zoom.meetings) == 1


def test_failed_mail_step_alerts_staff_once(world, zoom, smtp_sink, clock):
    store, settings, event = world
    _run(store, settings, zoom, NOW)
    smtp_sink.faults.refuse["t-yamada@city.kaga.lg.jp"] = "550 5.1.1 No such user"
    results = {r.key: r for r in _run(store, settings, zoom, at("2027-01-07T10:00"))}
    assert results["mail.invitation"].state == "failed"
    (alert,) = smtp_sink.to("seminar-staff@example.jp")
    text = alert.get_body(("plain",)).get_content()
    assert "mail.invitation" in text and "1 failed" in text
    with store.read() as conn:
        assert db.get_step(conn, "example-seminar", "mail.invitation")["alerted_at"] is not None
    assert _run(store, settings, zoom, at("2027-01-07T10:05")) == []
    assert len(smtp_sink.to("seminar-staff@example.jp")) == 1


def test_a_runner_that_died_loses_its_claim(world, zoom, smtp_sink):
    store, settings, event = world
    _set_up(store, settings, zoom, smtp_sink)
    with store.begin() as conn:
        step = db.get_step(conn, "example-seminar", "mail.invitation")
        db.claim_step(conn, step["id"], "dead-runner", at("2027-01-07T10:00"), at("2027-01-07T10:15"))
    assert _run(store, settings, zoom, at("2027-01-07T10:05")) == []  # the lease still holds
    results = _run(store, settings, zoom, at("2027-01-07T10:20"))
    assert [(r.key, r.state) for r in results] == [("mail.invitation", "done")]
    assert len(smtp_sink.received) == 40


def test_cancelled_seminar_runs_nothing(world, zoom, example_jobs, smtp_sink):
    store, settings, event = world
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace('language = "ja"', 'language = "ja"\ncancelled = true'),
        encoding="utf-8",
    )
    apply_events(store, [load_job(example_jobs)], NOW)
    assert _run(store, settings, zoom, at("2027-01-21T17:00")) == []
    assert smtp_sink.received == []


def test_four_runners_at_once_send_each_message_once(world, zoom, fake_zoom, smtp_sink, tmp_path, db_url, example_jobs):
    store, settings, event = world
    _set_up(store, settings, zoom, smtp_sink)  # the meeting and the registrants, so that the runners only mail
    env = {
        **os.environ,
        "OPSFLOW_DATABASE_URL": db_url,
        "OPSFLOW_SMTP_URL": smtp_sink.url,
        "OPSFLOW_MAIL_FROM": "seminar@example.jp",
        "OPSFLOW_JOBS_DIR": str(example_jobs.parent),
        "OPSFLOW_ZOOM_ACCOUNT_ID": fake_zoom.account_id,
        "OPSFLOW_ZOOM_CLIENT_ID": fake_zoom.client_id,
        "OPSFLOW_ZOOM_CLIENT_SECRET": fake_zoom.client_secret,
        "OPSFLOW_ZOOM_API_URL": fake_zoom.api_url,
        "OPSFLOW_ZOOM_OAUTH_URL": fake_zoom.oauth_url,
    }
    when = "2027-01-20T18:00:00+09:00"  # the invitation is late but useful; the 1d reminder is due
    runners = [
        subprocess.Popen(
            [sys.executable, "-m", "opsflow", "run-due", "--now", when],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [r.communicate(timeout=120) for r in runners]
    assert all(r.returncode == 0 for r in runners), outputs
    counts = Counter((r.recipients[0], r.message()["Subject"][:6]) for r in smtp_sink.received)
    assert len(counts) == 80 and set(counts.values()) == {1}  # 40 invitations and 40 reminders, once each
    done = [line for out, _ in outputs for line in out.splitlines() if line.endswith(" done") or " done " in line]
    assert sorted(line.split(":")[1].split()[0] for line in done) == ["mail.invitation", "mail.reminder.1d"]


def test_a_moved_seminar_tells_those_already_invited(world, zoom, example_jobs, smtp_sink):
    store, settings, event = world
    _run(store, settings, zoom, NOW)
    _run(store, settings, zoom, at("2027-01-07T10:00"))  # the invitation goes out
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace("2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"),
        encoding="utf-8",
    )
    (result,) = apply_events(store, [load_job(example_jobs)], at("2027-01-08T09:00"))
    assert ("add-step", "mail.change.1") in [(c.action, c.step_key) for c in result.changes]
    results = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-08T09:00"))}
    assert results == {"mail.change.1": "done"}
    (notice,) = [m for m in smtp_sink.to("t-yamada@city.kaga.lg.jp") if m["Subject"].startswith("【日時変更】")]
    text = notice.get_body(("plain",)).get_content()
    assert "2027年1月28日(木) 18:00〜19:30" in text and "2027年1月21日(木)" in text
    (ics,) = [p for p in notice.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert "SEQUENCE:1" in ics.get_content()
    again = apply_events(store, [load_job(example_jobs)], at("2027-01-08T10:00"))
    assert again[0].changes == []  # the notice is not taken for a step removed from the job file


def test_a_cancelled_seminar_sends_its_cancellation_once(world, zoom, example_jobs, smtp_sink):
    store, settings, event = world
    _run(store, settings, zoom, NOW)
    _run(store, settings, zoom, at("2027-01-07T10:00"))
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace('language = "ja"', 'language = "ja"\ncancelled = true'),
        encoding="utf-8",
    )
    apply_events(store, [load_job(example_jobs)], at("2027-01-10T09:00"))
    results = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-10T09:00"))}
    assert results == {"mail.cancellation": "done"}
    cancellations = [m for m in smtp_sink.to("t-yamada@city.kaga.lg.jp") if m["Subject"].startswith("【開催中止】")]
    assert len(cancellations) == 1
    assert _run(store, settings, zoom, at("2027-01-20T18:00")) == []  # the reminders were cancelled


def test_a_deferred_recipient_keeps_the_step_open_until_sent(world, zoom, smtp_sink):
    store, settings, event = world
    _set_up(store, settings, zoom, smtp_sink)
    smtp_sink.faults.defer["t-yamada@city.kaga.lg.jp"] = "451 4.7.1 Greylisted, try again later"
    first = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-07T10:00"))}
    assert first == {"mail.invitation": "retry"}
    with store.read() as conn:
        step = db.get_step(conn, "example-seminar", "mail.invitation")
    assert step["state"] == "planned" and step["retry_at"] == at("2027-01-07T10:05")  # when the 451 may be retried
    assert _run(store, settings, zoom, at("2027-01-07T10:02")) == []
    later = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-07T10:05"))}
    assert later == {"mail.invitation": "done"}
    assert len(smtp_sink.to("t-yamada@city.kaga.lg.jp")) == 1 and len(smtp_sink.received) == 40


def test_sending_to_one_person_leaves_the_step_and_the_others_alone(world, zoom, smtp_sink):
    store, settings, event = world
    _set_up(store, settings, zoom, smtp_sink)
    from opsflow.mail.send import send_mail

    send_mail(
        store,
        settings,
        event,
        "invitation",
        at("2027-01-05T10:00"),
        to="t-yamada@city.kaga.lg.jp",
        make_zoom=lambda: zoom,
    )
    assert _states(store)["mail.invitation"] == "planned"
    results = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-07T10:00"))}
    assert results == {"mail.invitation": "done"}
    assert len(smtp_sink.received) == 40  # the one who had it early is not sent it again


def test_moving_a_step_forgets_its_retry_time(world, zoom, example_jobs):
    store, settings, event = world
    with store.begin() as conn:
        step = db.get_step(conn, "example-seminar", "mail.reminder.1d")
        db.update_step(conn, step["id"], {"retry_at": at("2027-01-20T18:30")}, NOW)
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace("2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"),
        encoding="utf-8",
    )
    apply_events(store, [load_job(example_jobs)], NOW)
    with store.read() as conn:
        step = db.get_step(conn, "example-seminar", "mail.reminder.1d")
    assert (step["due_at"], step["retry_at"]) == (at("2027-01-27T18:00"), None)


def test_cancelled_with_zoom_registration_still_notifies_and_can_come_back(
    world, zoom, fake_zoom, example_jobs, smtp_sink
):
    from opsflow.zoom.meeting import sync_after_apply

    store, settings, event = world
    _run(store, settings, zoom, NOW)
    _run(store, settings, zoom, at("2027-01-07T10:00"))
    original = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(original.replace('language = "ja"', 'language = "ja"\ncancelled = true'), encoding="utf-8")
    cancelled = load_job(example_jobs)
    apply_events(store, [cancelled], at("2027-01-10T09:00"))
    assert [o.action for o in sync_after_apply(store, lambda: zoom, [cancelled], at("2027-01-10T09:00"))] == ["deleted"]
    assert {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-10T09:00"))} == {
        "mail.cancellation": "done"
    }

    example_jobs.write_text(original, encoding="utf-8")  # the seminar is back
    apply_events(store, [load_job(example_jobs)], at("2027-01-11T09:00"))
    results = {r.key: r.state for r in _run(store, settings, zoom, at("2027-01-11T09:00"))}
    assert results == {"zoom.create": "done", "registrants.sync": "done"}
    live = [m for m in fake_zoom.meetings.values() if m.get("status") != "deleted"]
    people = {r["email"]: r for r in fake_zoom.registrants(live[-1]["id"])}
    assert len(people) == 40  # registered again with the new meeting, for new personal links


def test_a_runner_is_named_as_the_zoom_claim_names_it():
    from opsflow.zoom.meeting import runner_id

    assert RunContext(None, Settings(), datetime.now(UTC), lambda: None).owner == runner_id()  # type: ignore[arg-type]

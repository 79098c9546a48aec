"""After the event, end to end: the fake Zoom's report with scripted attendance, the survey and the
follow-up through a real SMTP server, survey answers, the staff summary, the series, the draft."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from opsflow import store as db
from opsflow.after.report import (
    attendance_csv,
    attendance_of,
    fetch_report,
    headcount_text,
    report_draft,
    report_summary,
)
from opsflow.after.series import series_report
from opsflow.after.survey import import_responses, send_survey
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.errors import ZoomReportNotReady
from opsflow.core.jobspec import load_job
from opsflow.mail.send import send_mail
from opsflow.registrants import sync_registrants
from opsflow.store import open_store
from opsflow.zoom.meeting import create_meeting

from .conftest import NOW

START = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)  # 18:00 JST
END = START + timedelta(minutes=90)


def _at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture
def world(tmp_path, example_jobs, zoom, fake_zoom, clock, smtp_sink):
    """The example seminar applied, its meeting made, 40 people registered with Zoom, then held:
    20 attend for the whole time, plus the awkward cases."""
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    create_meeting(store, zoom, event, NOW)
    sync_registrants(store, lambda: zoom, event, NOW)
    (meeting_id,) = fake_zoom.meetings
    people = {r["email"]: r for r in fake_zoom.registrants(meeting_id)}
    emails = list(people)
    segments = [{"name": f"{people[e]['last_name']} {people[e]['first_name']}", "user_email": e,
                 "registrant_id": people[e]["id"], "join_time": _at(0), "leave_time": _at(90)} for e in emails[:20]]
    rejoin, overlap, short, by_name = emails[20], emails[21], emails[22], emails[23]
    segments += [
        {"name": "rejoin", "user_email": rejoin, "join_time": _at(0), "leave_time": _at(10)},
        {"name": "rejoin", "user_email": rejoin, "join_time": _at(20), "leave_time": _at(90)},
        {"name": "pc", "user_email": overlap, "join_time": _at(0), "leave_time": _at(60)},
        {"name": "phone", "user_email": overlap, "join_time": _at(30), "leave_time": _at(75)},
        {"name": "short", "user_email": short, "join_time": _at(0), "leave_time": _at(9)},
        {"name": f"{people[by_name]['last_name']}　{people[by_name]['first_name']}", "user_email": "",
         "join_time": _at(5), "leave_time": _at(85)},
        {"name": "ゲスト参加者", "user_email": "", "join_time": _at(0), "leave_time": _at(45)},
        {"name": "待機室のみ", "user_email": emails[24], "join_time": _at(0), "leave_time": _at(3),
         "status": "in_waiting_room"},
    ]
    clock.wall = END
    fake_zoom.end_meeting(meeting_id, ended_at=END, participants=segments)
    settings = Settings(smtp_url=Secret(smtp_sink.url), mail_from="セミナー事務局 <seminar@example.jp>",
                        organizer="パブリテックセミナー事務局")
    yield {"store": store, "event": event, "settings": settings, "emails": emails, "meeting_id": meeting_id,
           "rejoin": rejoin, "overlap": overlap, "short": short, "by_name": by_name}
    store.dispose()


def test_report_fetched_when_ready_with_exact_attendance(world, zoom, clock, fake_zoom):
    store, event = world["store"], world["event"]
    with pytest.raises(ZoomReportNotReady):
        fetch_report(store, zoom, event, clock.now())
    clock.advance(minutes=31)
    result = fetch_report(store, zoom, event, clock.now())
    assert (result.source, result.rows) == ("report", 28)
    people = {p["email"]: p for p in attendance_of(store, event.id) if p["email"]}
    assert people[world["rejoin"]]["total_minutes"] == 80 and people[world["rejoin"]]["segments"] == 2
    assert people[world["overlap"]]["total_minutes"] == 75  # two devices: the union, not the sum
    assert (people[world["short"]]["total_minutes"], people[world["short"]]["is_attended"]) == (9, False)
    assert people[world["by_name"]]["matched_by"] == "name" and people[world["by_name"]]["total_minutes"] == 80
    assert people[world["emails"][24]]["is_attended"] is False  # the waiting room is not the seminar
    guests = [p for p in attendance_of(store, event.id) if p["registrant_id"] is None]
    assert [(g["name"], g["total_minutes"], g["is_attended"]) for g in guests] == [("ゲスト参加者", 45, True)]

    numbers = report_summary(store, event.id)
    assert (numbers["registrations"], numbers["attended_registrants"], numbers["guests"]) == (40, 23, 1)
    assert round(numbers["attendance_rate"], 3) == round(23 / 40, 3)
    with store.read() as conn:
        step = next(s for s in db.list_steps(conn, [event.id]) if s["key"] == "report.fetch")
        assert step["state"] == "done" and len(db.list_report_rows(conn, event.id)) == 28
    assert fetch_report(store, zoom, event, clock.now()).rows == 28  # again: replaced, not doubled


def test_survey_to_attendees_followup_to_the_others(world, zoom, clock, smtp_sink):
    store, event, settings = world["store"], world["event"], world["settings"]
    clock.advance(minutes=31)
    fetch_report(store, zoom, event, clock.now())
    dry = send_survey(store, settings, event, clock.now(), dry_run=True)
    assert [(r.message_key, len(r.would_send)) for r in dry] == [("survey.send", 23), ("survey.followup", 17)]
    assert smtp_sink.received == []

    reports = send_survey(store, settings, event, clock.now())
    assert [len(r.sent) for r in reports] == [23, 17]
    (survey_mail,) = smtp_sink.to(world["rejoin"])
    assert survey_mail["Subject"].startswith("【アンケートのお願い】")
    text = survey_mail.get_body(("plain",)).get_content()
    with store.read() as conn:
        token = db.get_registrant(conn, event.id, world["rejoin"])["survey_token"]
    assert f"https://forms.example.jp/f/publitech-vol3?email={world['rejoin'].replace('@', '%40')}" in text
    assert token
    (followup,) = smtp_sink.to(world["short"])
    assert "アンケート" in followup.get_body(("plain",)).get_content()
    assert send_survey(store, settings, event, clock.now())[0].sent == []  # never twice


def test_survey_answers_reminder_and_summary(world, zoom, clock, smtp_sink, tmp_path):
    store, event, settings = world["store"], world["event"], world["settings"]
    clock.advance(minutes=31)
    fetch_report(store, zoom, event, clock.now())
    send_survey(store, settings, event, clock.now())
    with store.read() as conn:
        token = db.get_registrant(conn, event.id, world["emails"][0])["survey_token"]
    answers = tmp_path / "answers.csv"
    answers.write_bytes(("タイムスタンプ,token,メールアドレス,満足度,ご意見・ご感想\r\n"
                         f"2027/01/22 10:05,{token},,5,事例が具体的で参考になりました。\r\n"
                         f"2027/01/22 11:00,,{world['emails'][1].upper()},4,\r\n"
                         "2027/01/22 12:00,,stranger@example.jp,3,匿名の意見です\r\n").encode("cp932"))
    result = import_responses(store, event, answers, clock.now())
    assert (result.encoding, result.by_token, result.by_email, result.unmatched) == ("cp932", 1, 1, [4])
    assert result.rate_text == "9%"  # 2 of 23 attendees

    reminder = send_mail(store, settings, event, "survey_reminder", clock.now(), sync=False)
    assert len(reminder.sent) == 21 and world["emails"][0] not in reminder.sent

    summary = send_mail(store, settings, event, "summary", clock.now(), sync=False)
    assert summary.sent == ["seminar-staff@example.jp"]
    (mail,) = smtp_sink.to("seminar-staff@example.jp")
    text = mail.get_body(("plain",)).get_content()
    assert "40" in text and "58%" in text and "事例が具体的で参考になりました。" in text
    html_part = mail.get_body(("html",))
    assert 'src="cid:attendance-chart@opsflow"' in html_part.get_content()
    names = {p.get_filename(): p for p in mail.walk() if p.get_filename()}
    assert names["attendance.png"].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(io.StringIO(names["example-seminar-attendance.csv"].get_payload(decode=True).decode("utf-8-sig"))))
    assert len(rows) == 26 and {r["参加"] for r in rows} == {"はい", "いいえ"}  # a Japanese seminar's CSV


def test_export_draft_and_series(world, zoom, clock):
    store, event = world["store"], world["event"]
    clock.advance(minutes=31)
    fetch_report(store, zoom, event, clock.now())
    data = attendance_csv(attendance_of(store, event.id), event.tz)
    assert data.startswith("\ufeffname,email,organization".encode())
    draft = report_draft(store, event, ["とても良かったです。"])
    assert draft.startswith("# 開催報告: パブリテックセミナー vol.3")
    assert "- 参加者：総勢20名以上（申込 40名）" in draft and "- 「とても良かったです。」" in draft
    report = series_report(store, "publitech-seminar")
    assert [(s["id"], s["attendees"], s["registrations"], s["attendance_rate"]) for s in report.seminars] == [
        ("example-seminar", 23, 40, "58%")]
    assert len(report.organizations) >= 10


@pytest.mark.parametrize("n,text", [(8, "8名"), (19, "19名"), (70, "総勢70名"), (74, "総勢70名以上"), (120, "総勢120名")])
def test_headcount_text(n, text):
    assert headcount_text(n) == text


def test_survey_before_the_report_is_refused(world, clock):
    from opsflow.core.errors import NotFoundError

    with pytest.raises(NotFoundError) as err:
        send_survey(world["store"], world["settings"], world["event"], clock.now())
    assert str(err.value) == ("example-seminar has no attendance yet: run `opsflow report fetch example-seminar` "
                              "after the seminar, then send the survey")

"""What staff see after the seminar (issue #13): the staff summary's figures and wording, its attachments,
the chart's labels and font, and the comments of the report draft.

A real SQLite store with the example's 40 registrants and a stored participant report: 29 registrants
attend (three of them on a second device that Zoom shows under another identity), one guest who did not
register, one who left after 4 minutes, one who only waited. Snapshots live in tests/snapshots/summary_view;
regenerate them after an intended change with `OPSFLOW_UPDATE_SNAPSHOTS=1 python -m pytest
tests/test_summary_view.py` and review the diff.
"""

from __future__ import annotations

import csv
import dataclasses
import email
import io
import logging
import os
import warnings
from datetime import datetime, timedelta
from email.policy import default

import pytest

from opsflow import store as db
from opsflow.after.attendance import segments_from_report
from opsflow.after.chart import attendance_chart
from opsflow.after.report import (
    attendance_csv,
    attendance_of,
    distinct_comments,
    quoted,
    report_draft,
    store_attendance,
)
from opsflow.after.summary import staff_summary, summary_chart, survey_numbers
from opsflow.after.survey import import_responses
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import Event, load_job
from opsflow.mail.send import preview_message, send_mail
from opsflow.registrants import read_event_csv
from opsflow.registrants.roster import import_people
from opsflow.store import open_store

from .conftest import NOW, REPO

SNAPSHOTS = REPO / "tests" / "snapshots" / "summary_view"
STAFF = "seminar-staff@example.jp"
SECOND_DEVICES = 3  # registrants whose second device Zoom shows with another identity
COMMENTS = [  # the survey's free text, oldest first
    "大変参考になりました。",
    "「書かない窓口」の導入手順が具体的でよかった",
    "大変参考になりました。 ",  # the same words again, a trailing space
    "「録画を公開してほしいです」",  # typed inside 「」
    "",
    "ＰＤＦ資料がほしい",
    "PDF資料がほしい",  # the same after NFKC
]


def _language(event: Event, language: str) -> Event:
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language})})
    return dataclasses.replace(event, spec=spec)


def _report_rows(event: Event, registrants: list) -> list[dict]:
    """Zoom's participant report for the evening (rows as the API gives them)."""

    def row(name: str, email_: str, start: int, end: int, **extra) -> dict:
        join, leave = event.start_at + timedelta(minutes=start), event.start_at + timedelta(minutes=end)
        return {
            "name": name,
            "user_email": email_,
            "join_time": _z(join),
            "leave_time": _z(leave),
            "duration": (end - start) * 60,
            "status": "in_meeting",
            **extra,
        }

    rows = []
    for n, person in enumerate(registrants[:29]):
        name, address = person["name"], person["email"]
        if n == 0:  # drops out and comes back on the same PC
            rows += [row(name, address, 0, 25), row(name, address, 31, 90)]
        else:
            rows.append(row(name, address, 0 if n % 4 else 2, 90))
        if n == 1:  # a phone with no email, under the registered name (matched by name)
            rows.append(row(name, "", 3, 40))
        elif n == 2:  # a tablet with the name typed with a half-width space
            rows.append(row(name.replace("\u3000", " "), "", 4, 20))
        elif n == 3:  # a phone signed in with the same email under a nickname
            rows.append(row("iPhone", address, 1, 60))
    short, waiting = registrants[29], registrants[30]
    rows.append(row(short["name"], short["email"], 80, 84))  # came late, 4 minutes: not attended
    rows.append(row(waiting["name"], waiting["email"], 0, 3, status="in_waiting_room"))
    rows.append(row("ゲスト参加者", "", 1, 70))  # did not register
    return rows


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def seminar(tmp_path, example_jobs):
    """The example seminar held and surveyed: (store, event, report rows)."""
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    import_people(store, event.id, read_event_csv(event), NOW)
    with store.read() as conn:
        registrants = [dict(r) for r in db.list_registrants(conn, event.id)]
    rows = _report_rows(event, registrants)
    held = event.end_at + timedelta(minutes=40)
    store_attendance(store, event, rows, "report", held)
    answers = tmp_path / "answers.csv"
    with answers.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["タイムスタンプ", "メールアドレス", "満足度", "ご意見・ご感想"])
        for n, comment in enumerate(COMMENTS):
            writer.writerow([f"2027/01/22 10:{n:02d}", registrants[n]["email"], 5, comment])
    import_responses(store, event, answers, held)
    yield store, event, rows
    store.dispose()


def _snapshot(name: str, actual: str | bytes) -> None:
    path = SNAPSHOTS / name
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if os.environ.get("OPSFLOW_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.is_file(), f"no snapshot {path}: run with OPSFLOW_UPDATE_SNAPSHOTS=1 once and review it"
    assert data == path.read_bytes(), f"{path} differs from what opsflow made now"


def _body(message, kind: str) -> str:
    """The text or HTML part as a reader sees it (line ends as in Python)."""
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


def _preview(store, event: Event) -> email.message.EmailMessage:
    settings = Settings(mail_from="セミナー事務局 <seminar@example.jp>", organizer="パブリテックセミナー事務局")
    return preview_message(store, settings, event, "summary", event.end_at + timedelta(hours=1), to=STAFF)


# --- the figures -------------------------------------------------------------------------------------


def test_the_figures_add_up_as_report_show_gives_them(seminar):
    store, event, _ = seminar
    summary, _ = staff_summary(store, event)
    assert (summary["registrations"], summary["attendees"]) == (40, 30)
    assert (summary["attended_registrants"], summary["guests"]) == (29, 1)
    assert summary["attendees"] == summary["attended_registrants"] + summary["guests"]
    assert summary["attendance_rate"] == "73%"  # 29 of 40, rounded half up
    assert summary["attendance_source"] == "report" and summary["report_note"] is None


@pytest.mark.parametrize("language", ["ja", "en"])
def test_staff_summary_text_matches_its_snapshot(seminar, language):
    store, event, _ = seminar
    message = _preview(store, _language(event, language))
    text = _body(message, "plain")
    _snapshot(f"{language}/summary.txt", f"Subject: {message['Subject']}\n\n{text}")
    _snapshot(f"{language}/summary.html", _body(message, "html"))
    line = {
        "ja": "参加率　　　　：73%（申込者 40名のうち 29名が参加）",
        "en": "  Attendance rate:  73% (29 of 40 registered attended)",
    }[language]
    assert line in text.splitlines()


def test_the_japanese_summary_has_no_english_sentences(seminar):
    store, event, rows = seminar
    held = event.end_at + timedelta(hours=7)
    store_attendance(store, event, rows, "past_participants", held)  # the fallback source
    text = _body(_preview(store, event), "plain")
    assert "■ 備考\nZoomの参加者レポートを取得できなかったため、参加状況は\n" in text
    assert "Zoom's" not in text and "past-meeting" not in text
    english = _body(_preview(store, _language(event, "en")), "plain")
    assert "Note\nZoom's participant report was not available: attendance comes from\n" in english


def test_comments_are_shown_once_each_latest_first(seminar):
    store, event, _ = seminar
    survey = survey_numbers(store, event, set())
    assert survey is not None
    assert survey["comments"] == [
        "PDF資料がほしい",
        "録画を公開してほしいです",
        "大変参考になりました。",
        "「書かない窓口」の導入手順が具体的でよかった",
    ]


# --- the attachments ---------------------------------------------------------------------------------


def test_the_sent_summary_has_one_inline_chart_and_a_utf8_csv(seminar, smtp_sink):
    store, event, _ = seminar
    settings = Settings(
        smtp_url=Secret(smtp_sink.url),
        mail_from="セミナー事務局 <seminar@example.jp>",
        organizer="パブリテックセミナー事務局",
    )
    result = send_mail(store, settings, event, "summary", event.end_at + timedelta(hours=1), sync=False)
    assert result.sent == [STAFF]
    (mail,) = smtp_sink.to(STAFF)
    raw = email.message_from_bytes(mail.as_bytes(), policy=default)
    pngs = [p for p in raw.walk() if p.get_content_type() == "image/png"]
    assert len(pngs) == 1, "the chart is in the HTML only, not attached a second time"
    (png,) = pngs
    assert png["Content-ID"] == "<attendance-chart@opsflow>"
    assert png in _related_parts(raw) and png.get_content_disposition() == "inline"
    (csv_part,) = [p for p in raw.walk() if p.get_filename() == "example-seminar-attendance.csv"]
    assert csv_part.get_content_type() == "text/csv" and csv_part.get_param("charset") == "utf-8"
    assert csv_part.get_content_disposition() == "attachment"
    data = csv_part.get_payload(decode=True)
    assert data.startswith(b"\xef\xbb\xbf\xe6\xb0\x8f\xe5\x90\x8d,")  # the BOM, then 氏名
    assert data == attendance_csv(attendance_of(store, event.id), event.tz, "ja")


def _related_parts(message) -> list:
    return [p for part in message.walk() if part.get_content_type() == "multipart/related" for p in part.iter_parts()]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_attendance_csv_matches_its_snapshot(seminar, language):
    store, event, _ = seminar
    data = attendance_csv(attendance_of(store, event.id), event.tz, language)
    assert data.startswith("\ufeff".encode())
    _snapshot(f"{language}/attendance.csv", data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = {
        "ja": ["氏名", "メールアドレス", "所属", "部署", "参加時間(分)", "初回入室", "最終退室", "参加", "照合方法"],
        "en": [
            "Name",
            "Email",
            "Organization",
            "Department",
            "Minutes",
            "First joined",
            "Last left",
            "Attended",
            "Matched by",
        ],
    }[language]
    assert rows[0] == header and len(rows) == 1 + 32  # 31 registrants seen and the guest
    guest = next(r for r in rows if r[0] == "ゲスト参加者")
    assert guest[7:] == {"ja": ["はい", "申込なし"], "en": ["yes", "not registered"]}[language]


def test_without_a_language_the_csv_keeps_the_columns_programs_read(seminar):
    store, event, _ = seminar
    data = attendance_csv(attendance_of(store, event.id), event.tz)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "name",
        "email",
        "organization",
        "department",
        "minutes",
        "first_join",
        "last_leave",
        "attended",
        "matched_by",
    ]
    assert {r["matched_by"] for r in rows} == {"email", "guest"}
    assert {r["attended"] for r in rows} == {"yes", "no"}


# --- the chart ---------------------------------------------------------------------------------------


def _glyph_problems(records: list, caught: list) -> list[str]:
    texts = [str(w.message) for w in caught] + [r.getMessage() for r in records]
    return [t for t in texts if "Glyph" in t or "missing from font" in t]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_chart_labels_match_their_snapshot_and_the_peak_is_people(seminar, language):
    store, event, rows = seminar
    chart = summary_chart(store, _language(event, language))
    assert chart is not None and chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    _snapshot(
        f"{language}/chart.txt",
        f"title: {chart.title}\nx: {chart.xlabel}\ny: {chart.ylabel}\nfont: {chart.font}\n"
        f"x ticks: {' '.join(chart.xticks)}\ny ticks: {' '.join(chart.yticks)}\npeak: {chart.peak}\n",
    )
    # 30 people at most, though Zoom had 33 connections at 18:05
    assert chart.peak == 30
    at_1805 = event.start_at + timedelta(minutes=5)
    segments = [s for s in segments_from_report(rows) if not s.is_waiting_room]
    assert sum(s.join_at <= at_1805 < s.leave_at for s in segments) == 30 + SECOND_DEVICES


def test_a_japanese_chart_has_every_glyph(seminar, caplog):
    store, event, _ = seminar
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        chart = summary_chart(store, event)
    assert chart is not None and chart.title == "参加者の推移" and chart.font == "IPAexGothic"
    assert _glyph_problems(caplog.records, caught) == []


def test_the_glyph_check_would_see_a_font_without_japanese(caplog):
    """The check above is worth something: matplotlib's own font does warn about the same title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            figure, axes = plt.subplots()
            axes.set_title("参加者の推移")
            figure.savefig(io.BytesIO(), format="png")
            plt.close(figure)
    assert _glyph_problems(caplog.records, caught)


def test_the_chart_leaves_matplotlib_settings_as_they_were(seminar):
    import matplotlib

    store, event, _ = seminar
    before = list(matplotlib.rcParams["font.family"])
    points = [(event.start_at, 1), (event.end_at, 0)]
    attendance_chart(points, event.tz, "ja")
    assert list(matplotlib.rcParams["font.family"]) == before


# --- the report draft --------------------------------------------------------------------------------


def test_draft_quotes_once_and_nests_with_double_brackets(seminar):
    store, event, _ = seminar
    draft = report_draft(store, event, [*reversed(COMMENTS), "大変参考になりました。"])
    assert "、『パブリテックセミナー vol.3「自治体DXの現場から ― 窓口改革とデータ活用」』をオンラインで開催し" in draft
    assert "- 『「書かない窓口」導入の一年 ― 住民と職員の声から』" in draft
    assert "「「" not in draft and "」」" not in draft
    section = draft.split("## 参加者の声（アンケートより）\n\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines() == [
        "- 「PDF資料がほしい」",
        "- 「録画を公開してほしいです」",
        "- 「大変参考になりました。」",
        "- 『「書かない窓口」の導入手順が具体的でよかった』",
    ]


@pytest.mark.parametrize(
    "text,expected",
    [("良かった", "「良かった」"), ("「書かない窓口」が良い", "『「書かない窓口」が良い』"), ("」だけ", "『」だけ』")],
)
def test_quoted(text, expected):
    assert quoted(text) == expected


def test_distinct_comments_trims_unwraps_and_compares_after_nfkc():
    assert distinct_comments(["「良かった」", " 良かった\n", "「A」と「B」", "ＡＢＣ", "ABC", "「」", " "]) == [
        "良かった",
        "「A」と「B」",
        "ＡＢＣ",
    ]

"""The .ics each registrant gets, read back with vobject (an independent parser; opsflow writes the
file itself): their own join link in URL, LOCATION and DESCRIPTION, labels in the mail's language, the
exact start, one UID, and SEQUENCE raised by a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import vobject

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import load_job
from opsflow.core.runner import RunContext, run_due
from opsflow.mail.ics import event_ics, fold_line, ics_template
from opsflow.store import open_store

from .conftest import EXAMPLE_JOB, NOW

START_UTC = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo, 09:00 in London
MOVED_UTC = START_UTC + timedelta(days=7)
LABELS = {
    "ja": (["参加用URL: ", "ミーティングID: ", "パスコード: "], ["Meeting ID", "Passcode", "Join link"]),
    "en": (["Join link: ", "Meeting ID: ", "Passcode: "], ["ミーティングID", "パスコード", "参加用URL"]),
}


def _ics_of(message) -> vobject.base.Component:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return vobject.readOne(part.get_content())


def _calendars(sink, subject_start: str) -> dict[str, tuple]:
    """recipient -> (parsed .ics, text body) of the messages whose subject starts so."""
    out = {}
    for received in sink.received:
        message = received.message()
        if message["Subject"].startswith(subject_start):
            out[received.recipients[0]] = (_ics_of(message), message.get_body(("plain",)).get_content())
    return out


def _run(store, settings, zoom, clock, when: datetime) -> dict[str, str]:
    clock.wall = when
    return {r.key: r.state for r in run_due(RunContext(store, settings, when, lambda: zoom))}


@pytest.mark.parametrize(
    ("language", "zone", "invitation", "change"),
    [
        ("ja", "Asia/Tokyo", "【ご案内】", "【日時変更】"),
        ("en", "Europe/London", "Invitation:", "Date changed:"),
    ],
)
def test_each_registrant_gets_their_own_link_in_the_ics(
    language, zone, invitation, change, tmp_path, example_jobs, zoom, fake_zoom, smtp_sink, clock
):
    text = example_jobs.read_text(encoding="utf-8")
    assert 'language = "ja"' in text and 'timezone = "Asia/Tokyo"' in text and "registration = true" in text
    example_jobs.write_text(
        text.replace('language = "ja"', f'language = "{language}"').replace(
            'timezone = "Asia/Tokyo"', f'timezone = "{zone}"'
        ),
        encoding="utf-8",
    )
    store = open_store(f"sqlite:///{tmp_path / 'opsflow.db'}")
    settings = Settings(
        smtp_url=Secret(smtp_sink.url),
        mail_from="セミナー事務局 <seminar@example.jp>",
        organizer="パブリテックセミナー事務局",
    )
    apply_events(store, [load_job(example_jobs)], NOW)
    first = _run(store, settings, zoom, clock, NOW)
    assert first == {"zoom.create": "done", "registrants.sync": "done", "mail.confirmation": "done"}
    with store.read() as conn:
        due = db.get_step(conn, "example-seminar", "mail.invitation")["due_at"]
    assert _run(store, settings, zoom, clock, due) == {"mail.invitation": "done"}

    (meeting_id,) = fake_zoom.meetings
    own = {r["email"].lower(): r["join_url"] for r in fake_zoom.registrants(meeting_id)}
    shared = fake_zoom.meetings[meeting_id]["join_url"]
    invited = _calendars(smtp_sink, invitation)
    assert len(invited) == 40 and set(invited) <= set(own)
    assert len({own[p] for p in invited}) == 40, "everyone has a link of their own"
    # the 受付完了 that went first carries the same calendar entry, with the same personal link
    confirmed = _calendars(smtp_sink, {"ja": "【受付完了】", "en": "Registration confirmed:"}[language])
    assert set(confirmed) == set(invited)
    for person, (calendar, body) in confirmed.items():
        assert calendar.vevent.url.value == own[person] and own[person] in body.splitlines()
        assert calendar.vevent.uid.value == "example-seminar@opsflow" and calendar.vevent.sequence.value == "0"
    wanted, unwanted = LABELS[language]
    for person, (calendar, body) in invited.items():
        entry = calendar.vevent
        link = own[person]
        assert "?tk=" in link and "&pwd=" in link and len(link) > 75  # a long link, folded in the file
        assert link in body.splitlines(), "the body and the .ics give the same link"
        assert entry.url.value == link and entry.location.value == link
        description = entry.description.value
        assert f"{wanted[0]}{link}" in description.splitlines()
        assert shared not in description + entry.url.value + entry.location.value
        assert all(label in description for label in wanted)
        assert not any(label in description for label in unwanted)
        assert entry.dtstart.value.astimezone(UTC) == START_UTC
        assert entry.dtend.value.astimezone(UTC) == START_UTC + timedelta(minutes=90)
        assert entry.uid.value == "example-seminar@opsflow"
        assert entry.sequence.value == "0"

    # the seminar moves a week: a change notice to those invited, with a higher SEQUENCE and the same UID
    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace("2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"),
        encoding="utf-8",
    )
    moved_at = due + timedelta(days=1)
    apply_events(store, [load_job(example_jobs)], moved_at)
    assert _run(store, settings, zoom, clock, moved_at).get("mail.change.1") == "done"
    changed = _calendars(smtp_sink, change)
    assert set(changed) == set(invited)
    for person, (calendar, _body) in changed.items():
        entry = calendar.vevent
        assert entry.uid.value == invited[person][0].vevent.uid.value
        assert int(entry.sequence.value) > int(invited[person][0].vevent.sequence.value)
        assert entry.dtstart.value.astimezone(UTC) == MOVED_UTC
        assert entry.url.value == entry.location.value == own[person]
    store.dispose()


# --- the file itself -------------------------------------------------------------------------------------


def _event(language: str = "ja"):
    event = load_job(EXAMPLE_JOB)
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language})})
    return type(event)(**{**event.__dict__, "spec": spec})


def _template(join_url: str | None = "https://zoom.us/j/88231635078?pwd=shared"):
    return ics_template(
        _event(),
        join_url=join_url,
        meeting_id="882 3163 5078" if join_url else None,
        passcode="123456" if join_url else None,
        sequence=3,
        now=NOW,
    )


@pytest.mark.parametrize(
    "link",
    [
        "https://us02web.zoom.us/w/88231635078?tk=" + "x" * 80 + "&pwd=Qm9nYXNTZWNyZXQ.1",
        "https://zoom.us/w/1?tk=a;b,c\\d&pwd=e",  # characters TEXT escapes, each at some fold
        "https://zoom.us/w/1?tk=" + "\\" * 70 + "&uname=山田",
    ],
)
def test_a_substituted_link_reads_back_exactly_and_every_line_is_folded(link):
    data = _template().render(link)
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # no character is cut in two
    entry = vobject.readOne(data.decode("utf-8")).vevent
    assert entry.url.value == entry.location.value == link
    assert f"参加用URL: {link}" in entry.description.value.splitlines()
    assert entry.sequence.value == "3" and entry.summary.value == _event().title


def test_a_link_cannot_add_a_line_to_the_file():
    data = _template().render("https://zoom.us/w/1?tk=a\r\nATTENDEE:mailto:x@example.com")
    entry = vobject.readOne(data.decode("utf-8")).vevent
    assert "attendee" not in entry.contents
    assert entry.url.value == "https://zoom.us/w/1?tk=a%0D%0AATTENDEE:mailto:x@example.com"


def test_without_an_own_link_the_meetings_link_is_used_and_without_a_meeting_none():
    entry = vobject.readOne(_template().render(None).decode("utf-8")).vevent
    assert entry.url.value == "https://zoom.us/j/88231635078?pwd=shared"
    bare = vobject.readOne(_template(None).render("https://zoom.us/w/ignored").decode("utf-8")).vevent
    assert "url" not in bare.contents and "location" not in bare.contents
    assert "ミーティングID" not in bare.description.value


def test_event_ics_is_the_template_with_the_link():
    link = "https://zoom.us/w/1?tk=abc&pwd=def"
    made = event_ics(_event("en"), join_url=link, meeting_id="882 3163 5078", passcode="1", sequence=0, now=NOW)
    entry = vobject.readOne(made.decode("utf-8")).vevent
    assert entry.url.value == link and "Meeting ID: 882 3163 5078" in entry.description.value


def test_cancellation_is_method_cancel():
    made = event_ics(_event(), join_url=None, meeting_id=None, passcode=None, sequence=2, now=NOW, cancelled=True)
    calendar = vobject.readOne(made.decode("utf-8"))
    assert calendar.method.value == "CANCEL" and calendar.vevent.status.value == "CANCELLED"


def test_fold_line_keeps_short_lines_and_escapes_whole():
    assert fold_line("SUMMARY:short") == b"SUMMARY:short"
    folded = fold_line("DESCRIPTION:" + "a" * 62 + "\\;b")  # the backslash would be octet 75
    first, rest = folded.split(b"\r\n ")
    assert first.endswith(b"a") and rest.startswith(b"\\;") and len(first) == 74

"""What the built-in mails say, rendered through the real path (job file -> context -> templates): the
reminder names the start by day and time, the contact line comes before the closing greeting, and
Japanese text is broken only after a clause."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from opsflow.core.config import Settings
from opsflow.core.jobspec import load_job
from opsflow.mail.context import SAMPLE_RECIPIENT, build_context, sample_context
from opsflow.mail.render import renderer_for

from .conftest import EXAMPLE_JOB

JST = timezone(timedelta(hours=9))
SETTINGS = Settings(organizer="パブリテックセミナー事務局", organizer_contact="seminar@example.jp")
MEETING = {
    "state": "created",
    "join_url": "https://zoom.us/j/88231635078?pwd=abc",
    "meeting_id": 88231635078,
    "passcode": "123456",
}
REGISTRANT_KINDS = (
    "invitation",
    "confirmation",
    "reminder",
    "change",
    "cancellation",
    "survey",
    "followup",
    "survey_reminder",
)


def _event(language: str):
    event = load_job(EXAMPLE_JOB)  # starts 2027-01-21 18:00 in Asia/Tokyo
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language})})
    return dataclasses.replace(event, spec=spec)


def _reminder(language: str, send_at: datetime):
    event = _event(language)
    context = build_context("reminder", event, MEETING, SAMPLE_RECIPIENT, SETTINGS, send_at, ics_attached=True)
    return renderer_for(language).render("reminder", context)


# --- the reminder names the start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_at", "subject", "body"),
    [
        (datetime(2027, 1, 21, 17, 0, tzinfo=JST), "【リマインド】本日18:00開始：", "本日18:00より開催いたします。"),
        (datetime(2027, 1, 21, 15, 0, tzinfo=JST), "【リマインド】本日18:00開始：", "本日18:00より開催いたします。"),
        (datetime(2027, 1, 21, 0, 30, tzinfo=JST), "【リマインド】本日18:00開始：", "本日18:00より開催いたします。"),
        (
            datetime(2027, 1, 20, 18, 0, tzinfo=JST),
            "【リマインド】明日1月21日(木)18:00開始：",
            "明日1月21日(木)18:00より開催いたします。",
        ),
        (
            datetime(2027, 1, 14, 10, 0, tzinfo=JST),
            "【リマインド】1月21日(木)18:00開始：",
            "1月21日(木)18:00より開催いたします。",
        ),
        (
            datetime(2026, 12, 28, 10, 0, tzinfo=JST),
            "【リマインド】2027年1月21日(木)18:00開始：",
            "2027年1月21日(木)18:00より開催いたします。",
        ),
    ],
)
def test_japanese_reminder_says_which_day_and_when_it_starts(send_at, subject, body):
    rendered = _reminder("ja", send_at)
    assert rendered.subject.startswith(subject)
    assert body in rendered.text and body.removesuffix("いたします。") in rendered.html.replace("<strong>", "")
    assert "まもなく" not in rendered.subject + rendered.text + rendered.html


def test_the_day_is_counted_in_the_seminars_zone():
    # 00:30 in Tokyo is still the previous day in UTC: the seminar at 18:00 is today, not tomorrow
    send_at = datetime(2027, 1, 21, 0, 30, tzinfo=JST).astimezone(UTC)
    assert send_at.day == 20
    assert _reminder("ja", send_at).subject.startswith("【リマインド】本日18:00開始：")
    assert _reminder("en", send_at).subject.endswith(" starts today at 18:00 JST")


@pytest.mark.parametrize(
    ("send_at", "phrase"),
    [
        (datetime(2027, 1, 21, 17, 0, tzinfo=JST), "today at 18:00 JST"),
        (datetime(2027, 1, 20, 18, 0, tzinfo=JST), "tomorrow, Thursday 21 January, at 18:00 JST"),
        (datetime(2027, 1, 14, 10, 0, tzinfo=JST), "on Thursday 21 January at 18:00 JST"),
        (datetime(2026, 12, 28, 10, 0, tzinfo=JST), "on Thursday 21 January 2027 at 18:00 JST"),
    ],
)
def test_english_reminder_says_which_day_and_when_it_starts(send_at, phrase):
    rendered = _reminder("en", send_at)
    assert rendered.subject.endswith(f" starts {phrase}")
    assert f"The seminar below starts {phrase}." in rendered.text
    assert "soon" not in rendered.subject + rendered.text


# --- the contact line comes before the closing greeting ---------------------------------------------------


def _body(text: str) -> list[str]:
    """The text before the signature, without blank lines."""
    return [line for line in text.split("----------")[0].splitlines() if line.strip()]


@pytest.mark.parametrize("kind", REGISTRANT_KINDS)
def test_japanese_mails_end_with_the_contact_line_then_the_closing_greeting(kind):
    rendered = renderer_for("ja").render(kind, sample_context(kind, _event("ja"), SETTINGS))
    lines = _body(rendered.text)
    contact = next(i for i, line in enumerate(lines) if "お問い合わせください" in line)
    closing = max(i for i, line in enumerate(lines) if re.search(r"お願い(申し上げます|いたします)。$", line))
    assert contact < closing == len(lines) - 1, f"ja/{kind}: {lines[contact:]}"


@pytest.mark.parametrize(
    ("kind", "closing"),
    [
        ("survey", "Thank you in advance for your help."),
        ("followup", "We hope to see you at a future seminar."),
        ("change", "Thank you for your understanding."),
    ],
)
def test_english_mails_give_the_contact_line_before_the_closing_sentence(kind, closing):
    rendered = renderer_for("en").render(kind, sample_context(kind, _event("en"), SETTINGS))
    lines = rendered.text.splitlines()
    contact = next(i for i, line in enumerate(lines) if "please contact us" in line)
    assert contact < lines.index(closing) < lines.index("Kind regards,")


def test_survey_mail_order_as_a_reader_sees_it():
    text = renderer_for("ja").render("survey", sample_context("survey", _event("ja"), SETTINGS)).text
    assert (
        "ご不明な点がございましたら、下記までお問い合わせください。\n"
        "ご多忙のところ恐れ入りますが、何卒よろしくお願い申し上げます。\n"
        "\n"
        "----------------------------------------\n"
        "パブリテックセミナー事務局\n"
    ) in text


# --- Japanese lines break after a clause, never inside a phrase --------------------------------------------

HIRAGANA = re.compile(r"[\u3041-\u309f]$")


@pytest.mark.parametrize("kind", REGISTRANT_KINDS)
def test_japanese_text_is_not_broken_in_the_middle_of_a_phrase(kind):
    text = renderer_for("ja").render(kind, sample_context(kind, _event("ja"), SETTINGS)).text
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:], strict=False):
        if not following.strip() or line.startswith(("・", "■")):
            continue  # a paragraph's end, or a list item or heading whose next line is its own
        # a line that goes on in the next one ends a clause: 。、 or a closing bracket, not a particle
        assert not HIRAGANA.search(line), f"ja/{kind}: {line!r} is cut before {following!r}"


def test_survey_reminder_keeps_its_sentence_whole():
    text = renderer_for("ja").render("survey_reminder", sample_context("survey_reminder", _event("ja"), SETTINGS)).text
    assert (
        "お送りしておりましたアンケートへのご回答が確認できておりませんでしたので、\n改めてご案内いたします。" in text
    )

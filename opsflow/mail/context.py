"""The variables a mail template sees: the event, the recipient, the organizer, the message, the survey.

Every kind gets every top-level key (`summary` and `alert` are None outside their kinds), so a
template that works for one recipient works for all. `sample_context` feeds validation and previews.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from opsflow.core.config import Settings
from opsflow.core.jobspec import Event
from opsflow.mail.render import date_text, meeting_id_text, reminder_when, start_text

SAMPLE_EMAIL = "t-yamada@city.example.lg.jp"  # typed str on its own: the dict's values are str | None
SAMPLE_RECIPIENT = {
    "email": SAMPLE_EMAIL,
    "name": "山田 太郎",
    "organization": "石川県加賀市",
    "department": "政策戦略部",
    "fields_json": "{}",
    "join_url": None,
}
SAMPLE_RECIPIENT_EN = {**SAMPLE_RECIPIENT, "name": "Taro Yamada", "organization": "Kaga City"}


def event_context(
    event: Event,
    meeting: dict | None,
    *,
    previous: tuple[datetime, datetime] | None = None,
    ics_attached: bool = False,
    language: str | None = None,
) -> dict[str, Any]:
    """The seminar as templates see it, its dates written in `language` (default: the seminar's)."""
    spec = event.spec.event
    language = language or spec.language
    local_start, local_end = event.local(event.start_at), event.local(event.end_at)
    # The meeting only once Zoom has created it: None otherwise, so that mypy sees the narrowing.
    created = meeting if meeting is not None and meeting.get("state") == "created" else None
    return {
        "id": event.id,
        "title": spec.title,
        "series": spec.series,
        "description": spec.description,
        "date_text": date_text(event.start_at, event.end_at, event.tz, language),
        "start_date": date_text(event.start_at, event.end_at, event.tz, language).split(" ")[0]
        if language == "ja"
        else f"{local_start:%Y-%m-%d}",
        "start_time": f"{local_start:%H:%M}",
        "end_time": f"{local_end:%H:%M}",
        "timezone": str(event.tz),
        "speakers": [s.model_dump() for s in spec.speakers],
        "join_url": created["join_url"] if created is not None else None,
        "meeting_id": meeting_id_text(created["meeting_id"]) if created is not None else None,
        "passcode": created.get("passcode") if created is not None else None,
        "previous_date_text": date_text(previous[0], previous[1], event.tz, language) if previous else None,
        "ics_attached": ics_attached,
    }


def recipient_context(row: dict, meeting: dict | None) -> dict[str, Any]:
    """A registrant (or staff member) as templates see them; `join_url` is their own link, else the meeting's."""
    from opsflow.registrants.roster import join_link

    return {
        "name": row.get("name") or "",
        "email": row["email"],
        "organization": row.get("organization") or "",
        "department": row.get("department") or "",
        "fields": json.loads(row.get("fields_json") or "{}"),
        "join_url": join_link(row, meeting),
    }


def organizer_context(settings: Settings) -> dict[str, str]:
    return {"name": settings.organizer, "contact": settings.organizer_contact}


def survey_url(template: str | None, recipient: dict, token: str = "") -> str | None:
    """The survey link for one person: `{email}`, `{name}` and `{token}` filled in, URL-encoded."""
    if not template:
        return None
    values = {"email": recipient.get("email", ""), "name": recipient.get("name", ""), "token": token}
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", quote(value, safe=""))
    return out


def message_context(kind: str, event: Event, send_at: datetime, language: str | None = None) -> dict[str, Any]:
    """What a message says of its own sending (the start as seen from `send_at`), in `language`
    (default: the seminar's)."""
    language = language or event.spec.event.language
    local_days = (event.local(event.start_at).date() - event.local(send_at).date()).days
    return {
        "kind": kind,
        "when": reminder_when(send_at, event.start_at, event.tz),
        "days_before": local_days,
        "start_text": start_text(send_at, event.start_at, event.tz, language),
        "schedule": mail_schedule(event, send_at, language) if kind == "confirmation" else [],
    }


def mail_schedule(event: Event, send_at: datetime, language: str | None = None) -> list[dict[str, str]]:
    """The job file's invitation and reminders still ahead of `send_at`, in order, as the 受付完了 lists
    them: `kind` (invitation or reminder) and `when_text` (`1月20日(水)18:00`, `on Wednesday 20 January
    at 18:00 JST`, as a reminder names the start)."""
    language = language or event.spec.event.language
    ahead = []
    for index, mail in enumerate(event.mail, start=1):
        due = event.resolve(mail.at, f"mail[{index}].at")
        if due > send_at:
            ahead.append((due, mail.kind))
    return [{"kind": kind, "when_text": start_text(send_at, due, event.tz, language)} for due, kind in sorted(ahead)]


def build_context(
    kind: str,
    event: Event,
    meeting: dict | None,
    recipient: dict,
    settings: Settings,
    send_at: datetime,
    *,
    previous: tuple[datetime, datetime] | None = None,
    ics_attached: bool = False,
    summary: dict | None = None,
    alert: dict | None = None,
    token: str = "",
    language: str | None = None,
) -> dict[str, Any]:
    """Everything one message of `kind` to `recipient` needs, in `language` (default: the seminar's)."""
    person = recipient_context(recipient, meeting)
    return {
        "event": event_context(event, meeting, previous=previous, ics_attached=ics_attached, language=language),
        "recipient": person,
        "organizer": organizer_context(settings),
        "message": message_context(kind, event, send_at, language),
        "survey": survey_context(kind, event.spec.survey, person, token, meeting),
        "summary": summary,
        "alert": alert,
    }


def survey_context(kind: str, survey, person: dict, token: str, meeting: dict | None = None) -> dict[str, Any]:
    recording_url, recording_passcode = recording_link(survey, meeting)
    return {
        "url": _survey_link(kind, survey, person, token),
        "materials_url": survey.materials_url if survey else None,
        "recording_url": recording_url,
        "recording_passcode": recording_passcode,
        "deadline_text": None,
    }


def recording_link(survey, meeting: dict | None) -> tuple[str | None, str | None]:
    """(link, passcode) of the recording for a mail: `[survey] recording_url` as typed wins; else the link
    `opsflow recording fetch` stored, with its passcode only when the link does not carry it (`pwd=`)."""
    if survey is not None and survey.recording_url:
        return survey.recording_url, None
    url = meeting.get("recording_url") if meeting else None
    if not url:
        return None, None
    passcode = meeting.get("recording_passcode") if meeting else None
    if passcode and "pwd=" in urlsplit(url).query:
        passcode = None
    return url, passcode or None


def _survey_link(kind: str, survey, person: dict, token: str) -> str | None:
    """The personal survey link, except in a follow-up when the job file leaves the survey out of it."""
    if survey is None or (kind == "followup" and not survey.followup_survey):
        return None
    return survey_url(survey.url, person, token)


def sample_summary() -> dict[str, Any]:
    return {
        "registrations": 74,
        "attendees": 61,
        "attended_registrants": 58,
        "guests": 3,
        "attendance_rate": "78%",
        "average_minutes": 78,
        "median_minutes": 86,
        "by_organization": [
            {"name": "石川県加賀市", "registered": 6, "attended": 5},
            {"name": "福岡県糸島市", "registered": 4, "attended": 4},
        ],
        "deliveries": {"sent": 222, "failed": 1, "ambiguous": 0, "deferred": 0},
        "survey": {"responses": 30, "rate_text": "49%", "comments": ["大変参考になりました。"]},
        "chart_cid": None,
        "report_note": None,
        "attendance_source": "report",
        "stage": "report",
    }


def sample_alert(event: Event) -> dict[str, Any]:
    return {
        "event_title": event.title,
        "step": "mail.reminder.1d",
        "step_label": "リマインドメールの送信" if event.spec.event.language == "ja" else "sending a reminder",
        "state": "failed",
        "error": "the mail server refused the login",
        "due_text": "2027-01-20 18:00 JST",
        "hint": "check OPSFLOW_SMTP_URL, then run `opsflow run-due`",
    }


def sample_context(
    kind: str, event: Event, settings: Settings, meeting: dict | None = None, *, language: str | None = None
) -> dict[str, Any]:
    """A realistic context for checking and previewing templates without real recipients (in
    `language`, default the seminar's)."""
    language = language or event.spec.event.language
    recipient = SAMPLE_RECIPIENT if language == "ja" else SAMPLE_RECIPIENT_EN
    sample_meeting = meeting or {
        "state": "created",
        "join_url": "https://zoom.us/j/88231635078?pwd=SAMPLE",
        "meeting_id": 88231635078,
        "passcode": "123456",
    }
    if meeting is None and event.spec.recording is not None:  # the link `recording.fetch` will have stored
        sample_meeting.update(recording_url="https://zoom.us/rec/share/SAMPLE", recording_passcode="Ab1+x2Yz")
    week = timedelta(days=7)
    previous = (event.start_at - week, event.end_at - week) if kind == "change" else None
    # a confirmation goes out weeks ahead, while the invitation and the reminders are still to come
    send_at = event.start_at - 4 * week if kind == "confirmation" else event.start_at
    return build_context(
        kind,
        event,
        sample_meeting,
        recipient,
        settings,
        send_at,
        previous=previous,
        ics_attached=kind in ("invitation", "confirmation", "reminder", "change"),
        summary=sample_summary() if kind == "summary" else None,
        alert=sample_alert(event) if kind == "alert" else None,
        token="sample-token",
        language=language,
    )

"""What a speaker's mail says: the context of each speaker mail and the message built from it, prepared
once per batch (template, .ics, attendance figures, survey answers)."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from opsflow import store as db
from opsflow.core.config import Settings
from opsflow.core.errors import NotFoundError
from opsflow.core.jobspec import Event, Speaker
from opsflow.mail.context import event_context, message_context, organizer_context
from opsflow.mail.message import Attachment, Outgoing, build_message, parse_sender
from opsflow.mail.render import Renderer, en_day, ja_day, meeting_id_text, renderer_for
from opsflow.mail.speakers.panelists import created_meeting, is_webinar
from opsflow.mail.speakers.people import STEPS, Addressed, addressed_speakers
from opsflow.store import Store

PREVIEW_SENDER = "opsflow <opsflow@localhost>"


def moment_text(at: datetime, tz: tzinfo, language: str) -> str:
    """`2027年1月14日(木) 18:00`; `Thursday, 14 January 2027, 18:00 JST`."""
    local = at.astimezone(tz)
    if language == "ja":
        return f"{local.year}年{ja_day(local)} {local:%H:%M}"
    return f"{en_day(local, year=True, comma=True)}, {local:%H:%M} {local.tzname()}"


def rehearsal_context(event: Event) -> dict[str, Any] | None:
    """When the rehearsal is held and its own link (None: the speaker's link for the seminar)."""
    speakers = event.spec.speakers
    if speakers.rehearsal is None:
        return None
    held = event.resolve(speakers.rehearsal, "speakers.rehearsal")
    return {
        "date_text": moment_text(held, event.tz, event.spec.event.language),
        "join_url": speakers.rehearsal_url,
        "has_own_url": speakers.rehearsal_url is not None,
    }


def materials_context(event: Event) -> dict[str, Any] | None:
    speakers = event.spec.speakers
    if speakers.materials_due is None:
        return None
    due = event.resolve(speakers.materials_due, "speakers.materials_due")
    return {"due_text": moment_text(due, event.tz, event.spec.event.language)}


def attendance_figures(store: Store, event: Event) -> dict[str, Any] | None:
    """Registrations, attendees and the attendance rate as the staff summary gives them; None before a report."""
    from opsflow.after.report import percent, report_summary

    try:
        numbers = report_summary(store, event.id)
    except NotFoundError:
        return None
    return {
        "registrations": numbers["registrations"],
        "attendees": numbers["attendees"],
        "attendance_rate": percent(numbers["attended_registrants"], numbers["registrations"]),
    }


def talk_comments(answers: list[dict[str, Any]], event: Event, speaker: Speaker) -> list[str]:
    """The survey's comments about one talk: the speaker's `comment_columns`, else [survey]'s, else the
    columns that look like free text (as the staff summary finds them); each once, in answer order."""
    from opsflow.after.report import distinct_comments
    from opsflow.after.summary import COMMENT_HEADER

    named = speaker.comment_columns or (event.spec.survey.comment_columns if event.spec.survey else [])
    comments = [
        str(value)
        for answer in answers
        for column, value in answer.items()
        if value and (column in named or (not named and COMMENT_HEADER.search(column)))
    ]
    return distinct_comments(comments)


def speaker_context(addressed: Addressed, join_url: str | None, *, is_panelist: bool) -> dict[str, Any]:
    s = addressed.speaker
    return {
        "name": s.name,
        "affiliation": s.affiliation,
        "talk": s.talk,
        "position": s.position,
        "email": s.email,
        "join_url": join_url,
        "is_panelist": is_panelist and join_url is not None,
    }


class SpeakerMessages:
    """Builds one speaker's message of a step; the template, the .ics and the figures are prepared once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        event: Event,
        step_key: str,
        send_at: datetime,
        *,
        links: dict[str, str] | None = None,
        preview: bool = False,
        renderer: Renderer | None = None,
    ) -> None:
        from opsflow.mail.send import event_templates

        self.event, self.settings, self.send_at = event, settings, send_at
        self.kind = STEPS[step_key]
        self.renderer = renderer or renderer_for(
            event.spec.event.language, event_templates(event), settings.templates_dir
        )
        self.sender = parse_sender(settings.mail_from or (PREVIEW_SENDER if preview else settings.require("mail_from")))
        self.meeting = created_meeting(store, event)
        self.webinar = is_webinar(store, event)
        self.links = links or {}
        self.by_key = {a.key: a for a in addressed_speakers(event)}
        self.ics = None
        if self.kind == "speaker_request":
            from opsflow.mail.ics import ics_template

            with store.read() as conn:
                row = db.get_event(conn, event.id)
            m = self.meeting
            shown = m if m and not self.webinar else None  # a panelist who types the webinar's ID joins as an attendee
            self.ics = ics_template(
                event,
                join_url=m["join_url"] if m else None,
                meeting_id=meeting_id_text(shown["meeting_id"]) if shown else None,
                passcode=shown.get("passcode") if shown else None,
                sequence=row["sequence"] if row else 0,
                now=send_at,
            )
        self.shared = {
            "event": event_context(event, self.meeting, ics_attached=self.ics is not None),
            "organizer": organizer_context(settings),
            "message": message_context(self.kind, event, send_at),
            "rehearsal": rehearsal_context(event),
            "materials": materials_context(event),
        }
        self.figures: dict[str, Any] | None = None
        self.answers: list[dict[str, Any]] = []
        if self.kind == "speaker_thanks":
            self.figures = attendance_figures(store, event)
            with store.read() as conn:
                self.answers = [json.loads(r["answers_json"]) for r in db.list_survey_responses(conn, event.id)]

    def join_url(self, key: str) -> str | None:
        """The speaker's link: their panelist link for a webinar, else the seminar's."""
        if self.webinar:
            return self.links.get(key)
        return self.meeting["join_url"] if self.meeting else None

    def context(self, key: str) -> dict[str, Any]:
        addressed = self.by_key[key]
        link = self.join_url(key)
        context = {**self.shared, "speaker": speaker_context(addressed, link, is_panelist=self.webinar)}
        if context["rehearsal"] is not None and context["rehearsal"]["join_url"] is None:
            context["rehearsal"] = {**context["rehearsal"], "join_url": link}
        context["thanks"] = None
        if self.kind == "speaker_thanks":
            comments = talk_comments(self.answers, self.event, addressed.speaker)
            context["thanks"] = {"figures": self.figures, "comments": comments}
        return context

    def __call__(self, key: str) -> Outgoing:
        addressed = self.by_key.get(key)
        if addressed is None:
            raise NotFoundError(f"{key} is not a speaker of {self.event.id} with an email")
        context = self.context(key)
        rendered = self.renderer.render(self.kind, context)
        attachments: tuple[Attachment, ...] = ()
        if self.ics is not None:  # the calendar entry carries the link the body gives them
            attachments = (Attachment("seminar.ics", "text/calendar", self.ics.render(context["speaker"]["join_url"])),)
        assert addressed.speaker.email is not None
        return build_message(
            rendered,
            sender=self.sender,
            to_email=addressed.speaker.email,
            to_name=addressed.speaker.name,
            now=self.send_at,
            reply_to=self.settings.mail_reply_to,
            attachments=attachments,
        )

"""Sample contexts of the speaker mails, for `opsflow validate` (check_templates) and the snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from opsflow.core.config import Settings
from opsflow.core.jobspec import Event, Speaker
from opsflow.mail.context import event_context, message_context, organizer_context
from opsflow.mail.render import Renderer
from opsflow.mail.speakers.messages import materials_context, moment_text, rehearsal_context, speaker_context
from opsflow.mail.speakers.people import STEPS, Addressed, addressed_speakers

SAMPLE_SPEAKER = Speaker(
    name="大幸 喜徳",
    affiliation="石川県加賀市 政策戦略部イノベーション推進課",
    talk="加賀市におけるデジタル化の取り組みについて",
    position="課長",
    email="y-daiko@city.example.lg.jp",
)
SAMPLE_JOIN_URL = "https://zoom.us/j/88231635078?pwd=SAMPLE"
SAMPLE_MEETING = {
    "state": "created",
    "join_url": SAMPLE_JOIN_URL,
    "meeting_id": 88231635078,
    "passcode": "123456",
}
SAMPLE_PANELIST_URL = "https://zoom.us/w/88231635078?tk=SAMPLE-panelist-token"


def sample_speaker_context(kind: str, event: Event, settings: Settings) -> dict[str, Any]:
    """A realistic context for a speaker mail: the seminar's first speaker with an email (else a sample),
    its rehearsal and materials deadline (samples when the job file sets none), sample figures and comments."""
    language = event.spec.event.language
    addressed = next(iter(addressed_speakers(event)), None) or Addressed(1, SAMPLE_SPEAKER)
    webinar = event.spec.zoom is not None and event.spec.zoom.kind == "webinar"
    link = SAMPLE_PANELIST_URL if webinar else SAMPLE_JOIN_URL
    rehearsal = rehearsal_context(event) or {
        "date_text": moment_text(event.start_at - timedelta(days=7), event.tz, language),
        "join_url": None,
        "has_own_url": False,
    }
    if rehearsal["join_url"] is None:
        rehearsal = {**rehearsal, "join_url": link}
    deadline = (event.local(event.start_at) - timedelta(days=10)).replace(hour=17, minute=0)
    comments = (
        ["加賀市の事例が具体的で、大変参考になりました。", "庁内での合意形成の進め方を\nもう少し詳しく伺いたいです。"]
        if language == "ja"
        else ["The Kaga City case was concrete and very useful.", "I would like to hear more about the budget."]
    )
    return {
        "event": event_context(event, SAMPLE_MEETING, ics_attached=kind == "speaker_request"),
        "organizer": organizer_context(settings),
        "message": message_context(kind, event, event.start_at - timedelta(days=14)),
        "rehearsal": rehearsal,
        "materials": materials_context(event) or {"due_text": moment_text(deadline, event.tz, language)},
        "speaker": speaker_context(addressed, link, is_panelist=webinar),
        "thanks": {
            "figures": {"registrations": 74, "attendees": 61, "attendance_rate": "78%"},
            "comments": comments,
        }
        if kind == "speaker_thanks"
        else None,
    }


def check_speaker_templates(renderer: Renderer, settings: Settings, event: Event, steps) -> list[str]:
    """Render the speaker templates the seminar's steps use (raises TemplateError); returns their kinds."""
    kinds = sorted({STEPS[s.kind] for s in steps if s.kind in STEPS})
    for kind in kinds:
        renderer.render(kind, sample_speaker_context(kind, event, settings))
    return kinds

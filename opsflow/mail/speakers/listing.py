"""`opsflow speakers`: each speaker, their email, which of their mails went, their panelist state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsflow import store as db
from opsflow.core.errors import OpsflowError
from opsflow.core.jobspec import Event
from opsflow.mail.speakers.panelists import created_meeting, is_webinar
from opsflow.mail.speakers.people import STEPS, addressed_speakers
from opsflow.store import Store


def speaker_rows(store: Store, event: Event, make_zoom: Callable | None = None) -> dict[str, Any]:
    """Every speaker of the job file with their email, which of their mails went (state per step), and for a
    webinar whether they are a panelist and their link (read from Zoom; `panelists_error` when it could not be)."""
    with store.read() as conn:
        deliveries = [d for d in db.list_deliveries(conn, event.id) if d["message_key"] in STEPS]
    mails: dict[str, dict[str, str]] = {}
    for d in deliveries:
        state = "ambiguous" if d["state"] == "sending" else d["state"]
        mails.setdefault(d["recipient"], {})[d["message_key"]] = state
    webinar = is_webinar(store, event)
    panelists: dict[str, Any] | None = None
    error = None
    meeting = created_meeting(store, event)
    if webinar and meeting is not None and make_zoom is not None:
        from opsflow.zoom.panelists import list_panelists

        try:
            panelists = {p.email.lower(): p for p in list_panelists(make_zoom(), meeting["meeting_id"])}
        except OpsflowError as exc:  # the listing still shows the mails
            error = str(exc)
    elif webinar and meeting is None:
        error = "the webinar is not created yet"
    rows = []
    for number, speaker in enumerate(event.spec.event.speakers, start=1):
        key = speaker.email.strip().lower() if speaker.email else None
        row: dict[str, Any] = {
            "number": number,
            "name": speaker.name,
            "affiliation": speaker.affiliation,
            "talk": speaker.talk,
            "email": speaker.email,
            "mails": mails.get(key, {}) if key else {},
        }
        if webinar:
            found = panelists.get(key) if panelists is not None and key else None
            row["panelist"] = None if panelists is None else found is not None
            row["panelist_link"] = found.join_url if found is not None else None
        rows.append(row)
    named = {a.key for a in addressed_speakers(event)}
    gone = sorted(k for k in mails if k not in named)
    return {
        "event": event.id,
        "webinar": webinar,
        "speakers": rows,
        "no_longer_speakers": gone,  # had a speaker mail, no longer in the job file (with an email)
        "panelists_error": error,
    }

"""After the seminar: the meeting's cloud recording, its share link fetched from Zoom once and kept, so that
the survey mail, the follow-up to absentees and the survey reminder carry it.

`fetch_recording_link` asks Zoom only while nothing is stored (or when forced); until Zoom has made every
file it raises RecordingNotReady (transient: the runner tries again up to `[recording] until`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsflow import store as db
from opsflow.core.errors import NotFoundError, RecordingNotReady
from opsflow.core.jobspec import Event
from opsflow.store import Store

if TYPE_CHECKING:
    from opsflow.zoom import Zoom
    from opsflow.zoom.recordings import Recording

STEP = "recording.fetch"
# A recording that began this long before the seminar is another session in the same meeting (a rehearsal
# recorded days before): Zoom answers with the latest recorded instance, which is not this one yet.
EARLY_MARGIN = timedelta(hours=3)


@dataclass
class RecordingLink:
    """The recording's link as stored (or about to be), and what the fetch did."""

    event_id: str
    action: str  # stored, replaced, exists, would-store, none
    url: str | None = None
    passcode: str | None = None
    fetched_at: datetime | None = None
    meeting_id: int | None = None
    files: list[dict[str, Any]] = field(default_factory=list)  # as Zoom listed them, when it was asked

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "action": self.action,
            "meeting_id": self.meeting_id,
            "url": self.url,
            "passcode": self.passcode,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "files": self.files,
        }


def fetch_recording_link(
    store: Store,
    make_zoom: Callable[[], Zoom],
    event: Event,
    now: datetime,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> RecordingLink:
    """Fetch the share link of the seminar's cloud recording and store it; safe to run again, and from
    several runners at once (the first link stored stays unless `force`). Zoom is not asked when a link is
    stored already, unless `force`. Raises RecordingNotReady while Zoom has none or is still making it."""
    meeting = _meeting(store, event)
    if meeting["recording_url"] and not force:
        return _stored(event.id, meeting, "exists")
    from opsflow.zoom.recordings import fetch_recording

    meeting_id = meeting["meeting_id"]
    recording = fetch_recording(make_zoom(), meeting_id, include_processing=True)
    _check_ready(event, meeting_id, recording)
    assert recording is not None
    url, passcode = recording.url_with_passcode(), recording.passcode
    files = _files(recording)
    if dry_run:
        return RecordingLink(event.id, "would-store", url, passcode, None, meeting_id, files)
    with store.begin() as conn:
        is_stored = db.store_recording(conn, event.id, url, passcode, now, replace=force)
        step = db.get_step(conn, event.id, STEP)
        if is_stored and step is not None and step["state"] not in ("done", "cancelled"):
            db.finish_step(conn, event.id, STEP, "done", now)
        stored = db.get_zoom_meeting(conn, event.id)
    if not is_stored:  # another runner stored it meanwhile: theirs stays
        return _stored(event.id, stored, "exists", files)
    action = "replaced" if force and meeting["recording_url"] else "stored"
    return _stored(event.id, stored, action, files)


def stored_recording(store: Store, event_id: str) -> RecordingLink:
    """The stored link (action `exists`), or action `none` when nothing is stored yet."""
    with store.read() as conn:
        meeting = db.get_zoom_meeting(conn, event_id)
    if meeting is None or not meeting["recording_url"]:
        return RecordingLink(event_id, "none", meeting_id=meeting["meeting_id"] if meeting else None)
    return _stored(event_id, meeting, "exists")


def recording_step(store: Store, event_id: str) -> dict[str, Any] | None:
    """The seminar's recording.fetch step (state, due, last error), or None when its job file has no [recording]."""
    with store.read() as conn:
        step = db.get_step(conn, event_id, STEP)
    if step is None:
        return None
    return {
        "state": step["state"],
        "due_at": step["due_at"].isoformat() if step["due_at"] else None,
        "retry_at": step["retry_at"].isoformat() if step["retry_at"] else None,
        "last_error": step["last_error"],
    }


def missed_message(event: Event, until: datetime, problem: str) -> str:
    """Why the step ended without a link, and what the organizer can do."""
    local = event.local(until)
    return (
        f"no recording by {local:%Y-%m-%d %H:%M} {local.tzname()} (recording.until): {problem}; the survey goes "
        f"without the link. Fetch it later with `opsflow recording fetch {event.id}`: the survey reminder and "
        "any mail sent after carry it"
    )


def _meeting(store: Store, event: Event) -> dict[str, Any]:
    with store.read() as conn:
        meeting = db.get_zoom_meeting(conn, event.id)
    if meeting is None or meeting["meeting_id"] is None or meeting["state"] != "created":
        raise NotFoundError(
            f"{event.id} has no Zoom meeting: there is no recording to fetch (see `opsflow zoom show {event.id}`)"
        )
    return dict(meeting)


def _check_ready(event: Event, meeting_id: int, recording: Recording | None) -> None:
    """Raise RecordingNotReady unless `recording` is this seminar's, fully made, with a share link."""
    if recording is None:
        raise RecordingNotReady(
            f"Zoom has no recording of meeting {meeting_id} yet (it appears after the meeting ends, when it "
            "was recorded to the cloud)",
            code=3301,
        )
    if recording.start_time is not None and recording.start_time < event.start_at - EARLY_MARGIN:
        began = event.local(recording.start_time)
        raise RecordingNotReady(
            f"the latest recording Zoom has of meeting {meeting_id} began {began:%Y-%m-%d %H:%M}, before the "
            "seminar (an earlier session in the same meeting): not this seminar's yet"
        )
    if not recording.is_ready:
        made = sum(f.is_completed for f in recording.files)
        raise RecordingNotReady(
            f"Zoom is still processing the recording of meeting {meeting_id} ({made} of {len(recording.files)} "
            "files made)"
        )


def _files(recording: Recording) -> list[dict[str, Any]]:
    """Zoom's files, each once (Zoom may list a file twice)."""
    seen: dict[str, dict[str, Any]] = {}
    for f in recording.files:
        key = f.id or f"{f.file_type}:{f.recording_type}"
        seen.setdefault(key, {"id": f.id, "file_type": f.file_type, "recording_type": f.recording_type, "size": f.size})
    return list(seen.values())


def _stored(event_id: str, meeting, action: str, files: list[dict[str, Any]] | None = None) -> RecordingLink:
    return RecordingLink(
        event_id,
        action,
        meeting["recording_url"],
        meeting["recording_passcode"] or None,
        meeting["recording_fetched_at"],
        meeting["meeting_id"],
        files or [],
    )

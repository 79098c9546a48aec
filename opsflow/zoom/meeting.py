"""The Zoom meeting of a seminar: created once, updated when the job file changes, deleted on cancel.

Creation is claimed by a `creating` row (with a lease) before the POST. The event id goes into the
meeting's agenda, so after a crash or a timeout the host's meetings are searched for it instead of
creating a second meeting. The host's start URL is never stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opsflow import store as db
from opsflow.core.errors import InputError, NotFoundError, ZoomNotFoundError, ZoomOutcomeUnknown
from opsflow.core.jobspec import Event
from opsflow.store import Store
from opsflow.zoom import Zoom

log = logging.getLogger("opsflow.zoom.meeting")

LEASE = timedelta(minutes=5)
AGENDA_LIMIT = 2000
TOPIC_LIMIT = 200


@dataclass
class MeetingOutcome:
    """What a lifecycle call did: created, found, exists, busy, updated, unchanged, deleted, absent."""

    action: str
    event_id: str
    record: dict[str, Any] | None
    message: str


def marker(event_id: str) -> str:
    """The tag in the agenda that ties a Zoom meeting to its event."""
    return f"[opsflow {event_id}]"


def meeting_body(event: Event) -> dict[str, Any]:
    """The create/update body for the event's meeting or webinar."""
    spec, zoom = event.spec.event, event.spec.zoom
    assert zoom is not None
    agenda = f"{marker(event.id)}\n{spec.description}".strip()
    if zoom.registration:
        approval = 0 if zoom.approval == "automatic" else 1
    else:
        approval = 2
    settings: dict[str, Any] = {
        "approval_type": approval,
        "registrants_email_notification": zoom.zoom_emails,
    }
    if zoom.kind == "meeting":
        settings["registrants_confirmation_email"] = zoom.zoom_emails
    else:  # the speakers get opsflow's request with their panelist link, not Zoom's own invitation too
        settings["panelists_invitation_email_notification"] = False
    if zoom.registration:
        settings["registration_type"] = 1
    if zoom.alternative_hosts:
        settings["alternative_hosts"] = ";".join(zoom.alternative_hosts)
    if event.spec.recording is not None:  # recorded to the cloud, for the link `recording.fetch` sends
        settings["auto_recording"] = "cloud"
    return {
        "topic": spec.title[:TOPIC_LIMIT],
        "type": 2 if zoom.kind == "meeting" else 5,
        "start_time": event.start_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": int((event.end_at - event.start_at).total_seconds() // 60),
        "timezone": str(event.tz),
        "agenda": agenda[:AGENDA_LIMIT],
        "settings": settings,
    }


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def create_meeting(
    store: Store, zoom: Zoom, event: Event, now: datetime, *, owner: str | None = None
) -> MeetingOutcome:
    """Make sure the event has its Zoom meeting; safe to run again, and from several processes at once."""
    spec = event.spec.zoom
    if spec is None:
        raise NotFoundError(f"{event.id} has no [zoom] table in its job file: add one to create a meeting")
    owner = owner or runner_id()
    body = meeting_body(event)
    with store.begin() as conn:
        row = db.get_zoom_meeting(conn, event.id)
        if row is not None and row["state"] == "created":
            return MeetingOutcome("exists", event.id, dict(row), f"meeting {row['meeting_id']} already exists")
        claim = {
            "state": "creating",
            "lease_owner": owner,
            "lease_until": now + LEASE,
            "kind": spec.kind,
            "host": spec.host,
        }
        if row is None:
            is_ours = db.claim_zoom_meeting(conn, {"event_id": event.id, **claim}, now)
        else:
            is_ours = db.take_zoom_lease(conn, event.id, claim, now)
        if not is_ours:
            return MeetingOutcome(
                "busy",
                event.id,
                dict(row) if row else None,
                "another run is creating the meeting right now; try again in a few minutes",
            )
        must_search = row is not None  # an earlier attempt may have reached Zoom

    try:
        if must_search:
            found = find_meeting(zoom, event)
            if found is not None:
                return _record(store, zoom, event, found, body, now, "found")
        try:
            made = zoom.create(spec.kind, spec.host, body)
        except ZoomOutcomeUnknown:
            found = find_meeting(zoom, event)  # it may have been made: look before anyone creates again
            if found is not None:
                return _record(store, zoom, event, found, body, now, "found")
            raise
    except BaseException:
        # the claim is given up whatever went wrong (a failed search included), so that the next
        # attempt, by this runner or another, searches Zoom before it creates
        _release(store, event.id, now)
        raise
    return _record(store, zoom, event, made, body, now, "created")


def find_meeting(zoom: Zoom, event: Event) -> dict[str, Any] | None:
    """The host's meeting tagged with this event, or one with its exact topic and start time."""
    spec = event.spec.zoom
    assert spec is not None
    tag = marker(event.id)
    body = meeting_body(event)
    for meeting in zoom.list_upcoming(spec.kind, spec.host):
        if tag in (meeting.get("agenda") or ""):
            return zoom.get(spec.kind, meeting["id"])
        if meeting.get("topic") == body["topic"] and meeting.get("start_time") == body["start_time"]:
            return zoom.get(spec.kind, meeting["id"])
    return None


def update_meeting(store: Store, zoom: Zoom, event: Event, now: datetime) -> MeetingOutcome:
    """Send a changed title, time, duration or registration setting to Zoom."""
    row = _created(store, event.id)
    body = meeting_body(event)
    if row["synced_hash"] == body_hash(body):
        return MeetingOutcome("unchanged", event.id, row, f"meeting {row['meeting_id']} is up to date")
    zoom.update(row["kind"], row["meeting_id"], body)
    with store.begin() as conn:
        db.update_zoom_meeting(conn, event.id, {"synced_hash": body_hash(body)}, now)
        row = dict(db.get_zoom_meeting(conn, event.id))
    return MeetingOutcome("updated", event.id, row, f"meeting {row['meeting_id']} updated on Zoom")


def delete_meeting(store: Store, zoom: Zoom, event_id: str, now: datetime) -> MeetingOutcome:
    """Delete the event's meeting on Zoom (Zoom sends no notice); a meeting already gone is fine."""
    with store.read() as conn:
        row = db.get_zoom_meeting(conn, event_id)
    if row is None or row["state"] != "created":
        return MeetingOutcome("absent", event_id, dict(row) if row else None, "no Zoom meeting to delete")
    try:
        zoom.delete(row["kind"], row["meeting_id"])
    except ZoomNotFoundError:
        log.info("meeting %s was already gone from Zoom", row["meeting_id"])
    with store.begin() as conn:
        db.update_zoom_meeting(conn, event_id, {"state": "deleted"}, now)
        db.forget_zoom_registrations(conn, event_id, now)  # their links died with the meeting
        row = dict(db.get_zoom_meeting(conn, event_id))
    return MeetingOutcome("deleted", event_id, row, f"meeting {row['meeting_id']} deleted on Zoom")


def get_record(store: Store, event_id: str) -> dict[str, Any] | None:
    with store.read() as conn:
        row = db.get_zoom_meeting(conn, event_id)
    return dict(row) if row else None


def _created(store: Store, event_id: str) -> dict[str, Any]:
    row = get_record(store, event_id)
    if row is None or row["state"] != "created":
        raise NotFoundError(f"{event_id} has no Zoom meeting yet: run `opsflow zoom create {event_id}` first")
    return row


def _record(
    store: Store, zoom: Zoom, event: Event, meeting: dict[str, Any], body: dict[str, Any], now: datetime, action: str
) -> MeetingOutcome:
    values = {
        "state": "created",
        "meeting_id": int(meeting["id"]),
        "uuid": meeting.get("uuid"),
        "join_url": meeting.get("join_url"),
        "passcode": meeting.get("password") or None,
        "registration_url": meeting.get("registration_url"),
        "host_email": meeting.get("host_email"),
        "synced_hash": body_hash(body) if action == "created" else None,
        "lease_owner": None,
        "lease_until": None,
    }
    with store.begin() as conn:
        db.update_zoom_meeting(conn, event.id, values, now)
        db.finish_step(conn, event.id, "zoom.create", "done", now)
        row = dict(db.get_zoom_meeting(conn, event.id))
    verb = "created" if action == "created" else "found (made by an earlier run)"
    return MeetingOutcome(action, event.id, row, f"meeting {row['meeting_id']} {verb}{_zoom_survey(zoom, event, row)}")


def _zoom_survey(zoom: Zoom, event: Event, row: dict[str, Any]) -> str:
    """With `[survey] zoom_survey = true`, show the survey link at the end of the meeting on Zoom.
    Returns a note for the organizer ("" when nothing to say)."""
    survey = event.spec.survey
    if survey is None or not survey.zoom_survey or row["kind"] != "meeting":
        return ""
    if "{" in survey.url:
        return (
            "; the survey link has personal placeholders ({email}, {token}), so it is not set as Zoom's "
            "post-meeting survey, which shows one link to everyone"
        )
    try:
        zoom.set_survey_link(row["meeting_id"], survey.url)
    except InputError as exc:
        return f"; Zoom's post-meeting survey not set: {exc}"
    return "; the survey link is set as Zoom's post-meeting survey"


def _release(store: Store, event_id: str, now: datetime) -> None:
    """Give up the claim at once, so that the next attempt searches Zoom before creating."""
    with store.begin() as conn:
        db.update_zoom_meeting(conn, event_id, {"lease_owner": None, "lease_until": None}, now)


def sync_after_apply(
    store: Store, make_zoom, events: list[Event], now: datetime, *, dry_run: bool = False
) -> list[MeetingOutcome]:
    """After `apply`: update meetings whose job file changed them, delete those of cancelled events.

    `make_zoom()` is called only when Zoom has to be told something, so apply needs no credentials
    for seminars whose meeting is unchanged or not created yet.
    """
    outcomes: list[MeetingOutcome] = []
    zoom = None
    for event in events:
        row = get_record(store, event.id)
        if event.spec.zoom is None or row is None or row["state"] != "created":
            continue
        if event.spec.event.cancelled:
            if not event.spec.zoom.delete_on_cancel:
                continue
            if dry_run:
                outcomes.append(MeetingOutcome("delete", event.id, row, f"would delete meeting {row['meeting_id']}"))
                continue
            zoom = zoom or make_zoom()
            outcomes.append(delete_meeting(store, zoom, event.id, now))
        elif row["synced_hash"] != body_hash(meeting_body(event)):
            if dry_run:
                outcomes.append(MeetingOutcome("update", event.id, row, f"would update meeting {row['meeting_id']}"))
                continue
            zoom = zoom or make_zoom()
            outcomes.append(update_meeting(store, zoom, event, now))
    return outcomes

"""The seminar as an iCalendar file (.ics): a stable UID per event, SEQUENCE raised on each change,
VTIMEZONE for the event's zone, the join link in URL and LOCATION."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from icalendar import Event as VEvent

from opsflow.core.jobspec import Event

PRODID = "-//opsflow//seminar operations//EN"


def event_uid(event: Event) -> str:
    """The same UID in every invitation, reminder and change notice, so calendars update one entry."""
    return f"{event.id}@opsflow"


def event_ics(
    event: Event,
    *,
    join_url: str | None,
    meeting_id: str | None,
    passcode: str | None,
    sequence: int,
    now: datetime,
    cancelled: bool = False,
) -> bytes:
    """An .ics file for the seminar (METHOD:PUBLISH, or CANCEL when the seminar is cancelled)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    entry = VEvent()
    entry.add("uid", event_uid(event))
    entry.add("sequence", sequence)
    entry.add("dtstamp", now)
    entry.add("dtstart", event.local(event.start_at))
    entry.add("dtend", event.local(event.end_at))
    entry.add("summary", event.title)
    lines = []
    if join_url:
        entry.add("url", join_url)
        entry.add("location", join_url)
        lines.append(join_url)
    if meeting_id:
        lines.append(f"Meeting ID: {meeting_id}")
    if passcode:
        lines.append(f"Passcode: {passcode}")
    if event.spec.event.description:
        lines.append(event.spec.event.description)
    if lines:
        entry.add("description", "\n".join(lines))
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()

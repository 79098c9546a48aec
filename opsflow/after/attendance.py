"""Who attended a seminar, computed from Zoom's participant report: pure functions over plain data.

`segments_from_report` reads report rows, `attendance` merges them into one entry per person,
`timeline` counts people present over time, and `summary_numbers` gives the figures for staff.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

WAITING_ROOM = "in_waiting_room"
# The strongest way a registrant's segments were matched wins when they differ.
MATCH_ORDER = ("registrant_id", "email", "name")


@dataclass(frozen=True)
class Segment:
    """One row of Zoom's participant report: a join segment of one device."""

    name: str
    email: str  # normalised lower-case, "" when absent
    registrant_id: str  # Zoom's registrant id, "" when absent
    join_at: datetime  # aware UTC
    leave_at: datetime  # aware UTC, >= join_at
    is_waiting_room: bool


@dataclass(frozen=True)
class RegistrantRef:
    """A registrant of the event as opsflow stores it, for matching segments."""

    id: int
    email: str
    name: str
    zoom_registrant_id: str | None


@dataclass(frozen=True)
class PersonAttendance:
    """One person's attendance: a matched registrant, or a guest (`registrant_id` None)."""

    registrant_id: int | None
    name: str
    email: str | None
    minutes: int
    first_join_at: datetime | None
    last_leave_at: datetime | None
    segments: int
    is_attended: bool
    matched_by: str | None


def collapse_name(name: str) -> str:
    """The name with every run of whitespace (U+3000 included) made one space, ends trimmed."""
    return " ".join(name.split())


def _parse_time(value: Any, index: int, field: str) -> datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"report row {index}: {field} is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise ValueError(f"report row {index}: {field} {value!r} is not a time like 2027-01-21T09:01:12Z") from None
    if moment.tzinfo is None:
        raise ValueError(f"report row {index}: {field} {value!r} has no time zone (Zoom writes a trailing Z)")
    return moment.astimezone(UTC)


def _parse_duration(value: Any, index: int) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError(f"report row {index}: leave_time is missing or before join_time, and duration is missing")
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"report row {index}: duration {value!r} is not a whole number of seconds") from None
    if seconds < 0:
        raise ValueError(f"report row {index}: duration {seconds} is negative")
    return seconds


def segments_from_report(rows: Iterable[dict]) -> list[Segment]:
    """Read Zoom participant-report rows into segments, in the rows' order.

    A missing, empty or too-early `leave_time` is replaced by `join_time + duration`. A row that
    cannot be read raises ValueError naming its 0-based index and the field at fault.
    """
    segments = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"report row {index}: expected an object, got {type(row).__name__}")
        join_at = _parse_time(row.get("join_time"), index, "join_time")
        leave_raw = row.get("leave_time")
        has_leave = leave_raw is not None and str(leave_raw).strip() != ""
        leave_at = _parse_time(leave_raw, index, "leave_time") if has_leave else None
        if leave_at is None or leave_at < join_at:
            leave_at = join_at + timedelta(seconds=_parse_duration(row.get("duration"), index))
        segments.append(
            Segment(
                name=str(row.get("name") or "").strip(),
                email=str(row.get("user_email") or "").strip().lower(),
                registrant_id=str(row.get("registrant_id") or "").strip(),
                join_at=join_at,
                leave_at=leave_at,
                is_waiting_room=row.get("status") == WAITING_ROOM,
            )
        )
    return segments


def _unique_index(registrants: list[RegistrantRef], key: Callable[[RegistrantRef], str]) -> dict[str, RegistrantRef]:
    """key(registrant) -> registrant, for keys that belong to exactly one registrant."""
    seen: dict[str, list[RegistrantRef]] = {}
    for registrant in registrants:
        value = key(registrant)
        if value:
            seen.setdefault(value, []).append(registrant)
    return {value: found[0] for value, found in seen.items() if len(found) == 1}


def _merged_seconds(segments: list[Segment]) -> int:
    """Seconds covered by the union of the segments' intervals."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None  # (start, end) of the interval being merged
    for segment in sorted(segments, key=lambda s: s.join_at):
        if current is None or segment.join_at > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (segment.join_at, segment.leave_at)
        elif segment.leave_at > current[1]:
            current = (current[0], segment.leave_at)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return int(total)


def _matcher(
    registrants: Iterable[RegistrantRef],
) -> Callable[[Segment], tuple[tuple, str | None, RegistrantRef | None]]:
    """A function from a segment to (person key, how it matched, the registrant or None).

    The key is ("registrant", id) for a matched registrant, else ("guest", "email", address) or
    ("guest", "name", name): the one identity of a person for the table and the chart alike.
    """
    registrants = list(registrants)
    by_zoom_id = _unique_index(registrants, lambda r: (r.zoom_registrant_id or "").strip())
    by_email = _unique_index(registrants, lambda r: r.email.strip().lower())
    by_name = _unique_index(registrants, lambda r: collapse_name(r.name))

    def match(segment: Segment) -> tuple[tuple, str | None, RegistrantRef | None]:
        name = collapse_name(segment.name)
        for method, index, value in (
            ("registrant_id", by_zoom_id, segment.registrant_id),
            ("email", by_email, segment.email),
            ("name", by_name, name),
        ):
            if value and value in index:
                return ("registrant", index[value].id), method, index[value]
        return (("guest", "email", segment.email) if segment.email else ("guest", "name", name)), None, None

    return match


def attendance(
    segments: Iterable[Segment], registrants: Iterable[RegistrantRef], *, threshold_minutes: int
) -> list[PersonAttendance]:
    """One entry per person seen in the report, registrants first, each group sorted by name.

    Each segment goes to a registrant by Zoom registrant id, else by email, else by exact name
    (whitespace collapsed) when that name or email belongs to one registrant only; the rest are
    guests, grouped by email when present, else by name. Minutes are the union of meeting
    segments floored; waiting-room rows only make a person appear (with 0 minutes, not attended).
    """
    if threshold_minutes < 0:
        raise ValueError(f"threshold_minutes must be 0 or more, got {threshold_minutes}")
    match = _matcher(registrants)
    groups: dict[tuple, list[Segment]] = {}
    how: dict[tuple, set[str]] = {}
    found: dict[tuple, RegistrantRef] = {}
    for segment in segments:
        key, method, registrant = match(segment)
        if registrant is not None and method is not None:
            found[key] = registrant
            how.setdefault(key, set()).add(method)
        groups.setdefault(key, []).append(segment)

    people = []
    for key, group in groups.items():
        in_meeting = [s for s in group if not s.is_waiting_room]
        minutes = _merged_seconds(in_meeting) // 60
        registrant = found.get(key)
        email: str | None  # a guest may have given no address
        matched_by: str | None  # None for a guest
        if registrant is not None:
            name, email = registrant.name, registrant.email
            matched_by = next(m for m in MATCH_ORDER if m in how[key])
        else:
            first = min(group, key=lambda s: s.join_at)
            name, email, matched_by = collapse_name(first.name), first.email or None, None
        people.append(
            PersonAttendance(
                registrant_id=registrant.id if registrant is not None else None,
                name=name,
                email=email,
                minutes=minutes,
                first_join_at=min((s.join_at for s in in_meeting), default=None),
                last_leave_at=max((s.leave_at for s in in_meeting), default=None),
                segments=len(in_meeting),
                is_attended=bool(in_meeting) and minutes >= threshold_minutes,
                matched_by=matched_by,
            )
        )
    people.sort(key=lambda p: (p.registrant_id is None, p.name, p.email or "", p.registrant_id or 0))
    return people


def timeline(
    segments: Iterable[Segment],
    start: datetime,
    end: datetime,
    *,
    registrants: Iterable[RegistrantRef],
    step: timedelta = timedelta(minutes=1),
) -> list[tuple[datetime, int]]:
    """(instant, people in the meeting) at each step from `start` to `end` inclusive.

    People are told apart as `attendance` does (a registrant, else a guest's email, else their
    name), so someone on a second device or rejoining counts once. A segment covers
    [join_at, leave_at), so someone is gone at their leave instant. Waiting-room rows are left out.
    """
    if step <= timedelta(0):
        raise ValueError(f"step must be positive, got {step}")
    match = _matcher(registrants)
    in_meeting = [(s.join_at, s.leave_at, match(s)[0]) for s in segments if not s.is_waiting_room]
    points = []
    moment = start
    while moment <= end:
        present = {key for join_at, leave_at, key in in_meeting if join_at <= moment < leave_at}
        points.append((moment, len(present)))
        moment += step
    return points


def summary_numbers(people: list[PersonAttendance], registrations: int) -> dict[str, int | float | None]:
    """Figures for the staff summary; `guests` counts guests who attended, so
    attendees == attended_registrants + guests. Minutes statistics are over attendees.
    """
    if registrations < 0:
        raise ValueError(f"registrations must be 0 or more, got {registrations}")
    attendees = [p for p in people if p.is_attended]
    attended_registrants = sum(1 for p in attendees if p.registrant_id is not None)
    if attended_registrants > registrations:
        raise ValueError(f"{attended_registrants} registrants attended but registrations is {registrations}")
    minutes = [p.minutes for p in attendees]
    return {
        "registrations": registrations,
        "attendees": len(attendees),
        "attended_registrants": attended_registrants,
        "guests": len(attendees) - attended_registrants,
        "attendance_rate": attended_registrants / registrations if registrations else None,
        "average_minutes": float(statistics.fmean(minutes)) if minutes else None,
        "median_minutes": float(statistics.median(minutes)) if minutes else None,
    }

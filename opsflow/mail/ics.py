"""The seminar as an iCalendar file (.ics): a stable UID per event, SEQUENCE raised on each change, the
times in UTC, and each recipient's own join link in URL, LOCATION and DESCRIPTION.

The calendar is built once per batch with a placeholder for the link (`ics_template`); each recipient's
copy only substitutes their link into those few lines and folds them again (`IcsTemplate.render`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from opsflow.core.jobspec import Event

PRODID = "-//opsflow//seminar operations//EN"
CRLF = b"\r\n"
LINE_OCTETS = 75  # RFC 5545 3.1: content lines are folded so that none is longer than this
# DESCRIPTION labels in the mail's language (Zoom's own invitations write them the same way)
LABELS = {
    "ja": {"link": "参加用URL", "meeting_id": "ミーティングID", "passcode": "パスコード"},
    "en": {"link": "Join link", "meeting_id": "Meeting ID", "passcode": "Passcode"},
}
URI_PROPERTIES = frozenset({"URL"})  # values of type URI are written as they are; the others are TEXT


def event_uid(event: Event) -> str:
    """The same UID in every invitation, reminder and change notice, so calendars update one entry."""
    return f"{event.id}@opsflow"


@dataclass(frozen=True)
class IcsTemplate:
    """A serialized .ics with a placeholder where the join link goes.

    `parts` are folded lines that never change (joined, as bytes) and, as strings, the unfolded lines
    that hold the placeholder."""

    parts: tuple[bytes | str, ...]
    token: str | None
    shared_link: str | None

    def render(self, join_url: str | None = None) -> bytes:
        """The file for one recipient: `join_url` (their own link), else the meeting's shared link."""
        link = join_url or self.shared_link
        if self.token is None or link is None:
            return b"".join(p for p in self.parts if isinstance(p, bytes))
        uri = _safe_uri(link)
        text = escape_text(uri)
        out = []
        for part in self.parts:
            if isinstance(part, bytes):
                out.append(part)
            else:
                value = uri if _property_name(part) in URI_PROPERTIES else text
                out.append(fold_line(part.replace(self.token, value)) + CRLF)
        return b"".join(out)


def ics_template(
    event: Event,
    *,
    join_url: str | None,
    meeting_id: str | None,
    passcode: str | None,
    sequence: int,
    now: datetime,
    cancelled: bool = False,
    language: str | None = None,
) -> IcsTemplate:
    """The seminar's .ics, built once (per language); `join_url` is the meeting's shared link (None
    without a meeting); `language` is the DESCRIPTION's (default: the seminar's)."""
    token = f"opsflowjoinlink{secrets.token_hex(8)}" if join_url else None
    data = _calendar(
        event,
        link=token,
        meeting_id=meeting_id,
        passcode=passcode,
        sequence=sequence,
        now=now,
        cancelled=cancelled,
        language=language or event.spec.event.language,
    )
    return IcsTemplate(_split(data, token), token, join_url)


def event_ics(
    event: Event,
    *,
    join_url: str | None,
    meeting_id: str | None,
    passcode: str | None,
    sequence: int,
    now: datetime,
    cancelled: bool = False,
    language: str | None = None,
) -> bytes:
    """An .ics file for the seminar with `join_url` (METHOD:PUBLISH, or CANCEL when it is cancelled)."""
    template = ics_template(
        event,
        join_url=join_url,
        meeting_id=meeting_id,
        passcode=passcode,
        sequence=sequence,
        now=now,
        cancelled=cancelled,
        language=language,
    )
    return template.render()


def escape_text(value: str) -> str:
    """A TEXT value as RFC 5545 3.3.11 writes it: backslash, semicolon, comma and newline escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str) -> bytes:
    """One content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character nor
    between a backslash and the character it escapes (some readers stumble there)."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return data
    pieces = []
    start, room = 0, LINE_OCTETS
    while len(data) - start > room:
        cut = start + room
        while data[cut] & 0xC0 == 0x80:  # a continuation byte: step back to the character's start
            cut -= 1
        backslashes = 0
        while cut - backslashes - 1 > start and data[cut - backslashes - 1] == 0x5C:
            backslashes += 1
        if backslashes % 2:
            cut -= 1
        pieces.append(data[start:cut])
        start, room = cut, LINE_OCTETS - 1  # a continuation line starts with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


def _calendar(
    event: Event,
    *,
    link: str | None,
    meeting_id: str | None,
    passcode: str | None,
    sequence: int,
    now: datetime,
    cancelled: bool,
    language: str,
) -> bytes:
    """The calendar as RFC 5545 writes it, line by line (what icalendar wrote before, without loading
    icalendar for every send): TEXT values escaped, the URL as it is, each line folded."""
    labels = LABELS.get(language, LABELS["en"])
    description = []
    if link:
        description.append(f"{labels['link']}: {link}")
    if meeting_id:
        description.append(f"{labels['meeting_id']}: {meeting_id}")
    if passcode:
        description.append(f"{labels['passcode']}: {passcode}")
    if event.spec.event.description:
        description += ["", event.spec.event.description] if description else [event.spec.event.description]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"SUMMARY:{escape_text(event.title)}",
        # UTC times: every reader places them exactly; a VTIMEZONE for a zone with summer time is written
        # with RDATE lists that some readers ignore (dateutil, so vobject, put a London seminar an hour off)
        f"DTSTART:{_utc(event.start_at)}",
        f"DTEND:{_utc(event.end_at)}",
        f"DTSTAMP:{_utc(now)}",
        f"UID:{escape_text(event_uid(event))}",
        f"SEQUENCE:{sequence}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(chr(10).join(description))}")
    if link:
        lines.append(f"LOCATION:{escape_text(link)}")
    lines.append(f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}")
    if link:
        lines.append(f"URL:{link}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return b"".join(fold_line(line) + CRLF for line in lines)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _split(data: bytes, token: str | None) -> tuple[bytes | str, ...]:
    """Folded runs of fixed lines as bytes, and the (unfolded) lines holding `token` as strings."""
    text = data.decode("utf-8")
    if token is None or token not in text:
        return (data,)
    lines = re.sub(r"\r\n[ \t]", "", text).split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    parts: list[bytes | str] = []
    fixed: list[bytes] = []
    for line in lines:
        if token in line:
            if fixed:
                parts.append(b"".join(fixed))
                fixed = []
            parts.append(line)
        else:
            fixed.append(fold_line(line) + CRLF)
    if fixed:
        parts.append(b"".join(fixed))
    return tuple(parts)


def _property_name(line: str) -> str:
    end = min((i for i in (line.find(":"), line.find(";")) if i >= 0), default=len(line))
    return line[:end].upper()


def _safe_uri(link: str) -> str:
    """Control characters and spaces percent-encoded: a link can never break or add a content line."""
    return re.sub(r"[\x00-\x20\x7f]", lambda m: f"%{ord(m.group()):02X}", link)

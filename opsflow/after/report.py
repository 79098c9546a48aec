"""After the seminar: Zoom's participant report fetched, archived and turned into attendance per person.

The report can take Zoom 30 minutes; until then `fetch_report` raises ZoomReportNotReady (transient,
retried by the runner). Past the deadline it falls back to the past-meeting (or past-webinar) participants. Zoom deletes
reports after a while, so every raw row is kept in the store.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opsflow import store as db
from opsflow.after.attendance import PersonAttendance, RegistrantRef, attendance, segments_from_report, summary_numbers
from opsflow.core.errors import NotFoundError, OpsflowError, ZoomError, ZoomReportNotReady
from opsflow.core.jobspec import Event
from opsflow.store import Store
from opsflow.zoom import Zoom

REPORT_DEADLINE = timedelta(hours=6)  # after the end: stop waiting for the report, use past participants


@dataclass
class FetchResult:
    event_id: str
    source: str  # report, past_participants
    rows: int
    people: int
    attendees: int


def fetch_report(store: Store, zoom: Zoom, event: Event, now: datetime) -> FetchResult:
    """Read the participant report (or, past the deadline, the past-meeting participants), keep the
    rows, and compute attendance. Safe to run again: each fetch replaces the previous one."""
    with store.read() as conn:
        meeting = db.get_zoom_meeting(conn, event.id)
    if meeting is None or meeting["meeting_id"] is None:
        raise NotFoundError(f"{event.id} has no Zoom meeting: there is no report to fetch")
    kind, meeting_id = meeting["kind"], meeting["meeting_id"]
    try:
        rows, source = list(zoom.report_participants(kind, meeting_id)), "report"
    except ZoomReportNotReady:
        if now < event.end_at + REPORT_DEADLINE:
            raise
        try:
            rows, source = list(zoom.past_participants(meeting_id, kind)), "past_participants"
        except ZoomError as exc:
            raise ZoomReportNotReady(
                f"Zoom has no participant report for {event.id} {REPORT_DEADLINE.seconds // 3600} hours after the "
                f"end, and no past-{kind} participants either ({exc}): check on Zoom that the {kind} took place "
                "(reports need a Pro or higher host)",
                status=exc.status,
                code=exc.code,
            ) from None
    store_attendance(store, event, rows, source, now)
    people = attendance_of(store, event.id)
    with store.begin() as conn:
        db.finish_step(conn, event.id, "report.fetch", "done", now)
    return FetchResult(event.id, source, len(rows), len(people), sum(p["is_attended"] for p in people))


def store_attendance(store: Store, event: Event, rows: list[dict], source: str, now: datetime) -> None:
    """Archive `rows` and replace the event's attendance computed from them."""
    threshold = event.spec.report.attended_minutes
    try:
        segments = segments_from_report(rows)
    except ValueError as exc:
        raise OpsflowError(
            f"Zoom's report for {event.id} has a row opsflow cannot read ({exc}); nothing was "
            "stored: fetch it again later, or report it"
        ) from None
    with store.begin() as conn:
        people = attendance(segments, registrant_refs(conn, event.id), threshold_minutes=threshold)
        db.replace_report_rows(conn, event.id, source, [json.dumps(r, ensure_ascii=False) for r in rows], now)
        db.replace_attendance(conn, event.id, [_row(p) for p in people])


def registrant_refs(conn, event_id: str) -> list[RegistrantRef]:
    """Every registrant of the event (cancelled too), as attendance matching knows them."""
    return [
        RegistrantRef(r["id"], r["email"], r["name"], r["zoom_registrant_id"])
        for r in db.list_registrants(conn, event_id)
    ]


def _row(person: PersonAttendance) -> dict[str, Any]:
    return {
        "registrant_id": person.registrant_id,
        "name": person.name,
        "email": person.email,
        "total_minutes": person.minutes,
        "first_join_at": person.first_join_at,
        "last_leave_at": person.last_leave_at,
        "is_attended": person.is_attended,
        "segments": person.segments,
        "matched_by": person.matched_by,
    }


def attendance_of(store: Store, event_id: str) -> list[dict[str, Any]]:
    """The stored attendance, with each matched person's organization."""
    with store.read() as conn:
        people = db.list_attendance(conn, event_id)
        registrants = {r["id"]: r for r in db.list_registrants(conn, event_id)}
    out = []
    for p in people:
        registrant = registrants.get(p["registrant_id"]) if p["registrant_id"] else None
        out.append(
            {
                **dict(p),
                "organization": registrant["organization"] if registrant else "",
                "department": registrant["department"] if registrant else "",
            }
        )
    return out


def report_summary(store: Store, event_id: str) -> dict[str, Any]:
    """The figures of the report: registrations, attendees, rate, minutes, by organization."""
    people = attendance_of(store, event_id)
    with store.read() as conn:
        active_people = db.list_registrants(conn, event_id, status="active")
        has_rows = bool(db.list_report_rows(conn, event_id))
    active = {r["id"] for r in active_people}
    # someone who attended and cancelled afterwards still counts as registered
    registrations = len(active | {p["registrant_id"] for p in people if p["registrant_id"] and p["is_attended"]})
    if not has_rows and not people:
        raise NotFoundError(f"no report for {event_id} yet: run `opsflow report fetch {event_id}` after the seminar")
    refs = [
        PersonAttendance(
            p["registrant_id"],
            p["name"],
            p["email"],
            p["total_minutes"],
            p["first_join_at"],
            p["last_leave_at"],
            p["segments"],
            p["is_attended"],
            p["matched_by"],
        )
        for p in people
    ]
    numbers: dict[str, Any] = summary_numbers(refs, registrations)  # the figures, then lists added below
    by_org: dict[str, dict[str, int]] = {}
    for r in active_people:
        by_org.setdefault(r["organization"] or "-", {"registered": 0, "attended": 0})["registered"] += 1
    for p in people:
        if p["registrant_id"] and p["is_attended"]:
            by_org.setdefault(p["organization"] or "-", {"registered": 0, "attended": 0})["attended"] += 1
    numbers["by_organization"] = [
        {"name": name, **v} for name, v in sorted(by_org.items(), key=lambda item: (-item[1]["attended"], item[0]))
    ]
    numbers["people"] = people
    return numbers


def percent(part: int, whole: int) -> str:
    """`58%`, rounded half up on whole numbers (float rounding would make 23/40 into 57%); `-` for 0/0."""
    return f"{(200 * part + whole) // (2 * whole)}%" if whole else "-"


# The CSV's columns and its coded values for people (ja, en) and, under None, for programs: the columns
# and codes `report export` has always written. `matched_by` None is a guest.
CSV_HEADERS: dict[str | None, tuple[str, ...]] = {
    "ja": ("氏名", "メールアドレス", "所属", "部署", "参加時間(分)", "初回入室", "最終退室", "参加", "照合方法"),
    "en": (
        "Name",
        "Email",
        "Organization",
        "Department",
        "Minutes",
        "First joined",
        "Last left",
        "Attended",
        "Matched by",
    ),
    None: (
        "name",
        "email",
        "organization",
        "department",
        "minutes",
        "first_join",
        "last_leave",
        "attended",
        "matched_by",
    ),
}
CSV_ATTENDED = {"ja": ("はい", "いいえ"), "en": ("yes", "no"), None: ("yes", "no")}
CSV_MATCHED_BY: dict[str | None, dict[str | None, str]] = {
    "ja": {"registrant_id": "Zoom登録", "email": "メールアドレス", "name": "氏名", None: "申込なし"},
    "en": {"registrant_id": "Zoom registration", "email": "email", "name": "name", None: "not registered"},
    None: {"registrant_id": "registrant_id", "email": "email", "name": "name", None: "guest"},
}


def attendance_csv(people: list[dict[str, Any]], tz, language: str | None = None) -> bytes:
    """The attendance as CSV that Excel opens correctly: UTF-8 with BOM, CRLF. With a `language` (ja or
    en) the headers and the coded values (attended, how a person was matched to a registration) are
    words for people; without one, the column names and codes that programs reading the export expect."""
    key = language if language in CSV_HEADERS else "en"
    yes, no = CSV_ATTENDED[key]
    matched_by = CSV_MATCHED_BY[key]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS[key])
    for p in people:
        writer.writerow(
            [
                p["name"],
                p["email"] or "",
                p["organization"],
                p["department"],
                p["total_minutes"],
                _local(p["first_join_at"], tz),
                _local(p["last_leave_at"], tz),
                yes if p["is_attended"] else no,
                matched_by.get(p["matched_by"], p["matched_by"]),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _local(moment: datetime | None, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def headcount_text(n: int, language: str = "ja") -> str:
    """Participants the way an event report says it: 74 -> `総勢70名以上`; under 20 exactly."""
    if n < 20:
        return f"{n}名" if language == "ja" else f"{n} participants"
    rounded = n // 10 * 10
    if language == "ja":
        return f"総勢{rounded}名" if rounded == n else f"総勢{rounded}名以上"
    return f"{rounded} participants" if rounded == n else f"more than {rounded} participants"


def report_draft(store: Store, event: Event, comments: list[str]) -> str:
    """A Markdown draft of the public event report (開催報告) for staff to edit."""
    from opsflow.mail.render import date_text

    numbers = report_summary(store, event.id)
    spec = event.spec.event
    ja = spec.language == "ja"
    when = date_text(event.start_at, event.end_at, event.tz, spec.language)
    lines = [f"# {'開催報告' if ja else 'Event report'}: {spec.title}", ""]
    if ja:
        lines += [
            f"- 日時：{when}",
            "- 形式：オンライン（Zoom）",
            f"- 参加者：{headcount_text(numbers['attendees'])}（申込 {numbers['registrations']}名）",
            "",
        ]
        lines += [
            f"{when.split(' ')[0]}、{quoted(spec.title)}をオンラインで開催し、"
            f"全国の自治体職員の皆さまを中心に{headcount_text(numbers['attendees'])}の方にご参加いただきました。",
            "",
        ]
    else:
        lines += [
            f"- Date: {when}",
            "- Format: online (Zoom)",
            f"- Participants: {headcount_text(numbers['attendees'], 'en')} ({numbers['registrations']} registered)",
            "",
        ]
    if spec.speakers:
        lines += ["## 登壇者と講演" if ja else "## Speakers and talks", ""]
        for speaker in spec.speakers:
            who = " ".join(p for p in (speaker.affiliation, speaker.position, speaker.name) if p)
            lines.append(f"- {quoted(speaker.talk)} {who} 氏" if ja else f'- "{speaker.talk}", {who}')
        lines.append("")
    shown = [("" if ja else " ").join(line.strip() for line in c.splitlines()) for c in distinct_comments(comments)]
    if shown:
        lines += ["## 参加者の声（アンケートより）" if ja else "## What participants said", ""]
        lines += [f"- {quoted(c)}" if ja else f"> {c}" for c in shown[:5]]
        lines.append("")
    lines.append(
        "<!-- opsflow の下書きです。公開前に内容をご確認ください。 -->"
        if ja
        else "<!-- A draft by opsflow: check it before publishing. -->"
    )
    return "\n".join(lines) + "\n"


def quoted(text: str) -> str:
    """「text」, or 『text』 when the text has 「 or 」 of its own (how Japanese nests quotations)."""
    return f"『{text}』" if "「" in text or "」" in text else f"「{text}」"


def distinct_comments(comments: Iterable[str]) -> list[str]:
    """The comments trimmed, without a 「」 pair around a whole comment, each once (compared after NFKC,
    whitespace collapsed), in their order; empty ones left out."""
    seen: set[str] = set()
    out = []
    for comment in comments:
        text = _unwrapped(comment.strip())
        key = " ".join(unicodedata.normalize("NFKC", text).split()).casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def _unwrapped(text: str) -> str:
    """「text」 -> text, when that first 「 closes at the very end (not for 「A」と「B」)."""
    if len(text) < 2 or text[0] != "「" or text[-1] != "」":
        return text
    depth = 0
    for ch in text[:-1]:
        depth += (ch == "「") - (ch == "」")
        if depth == 0:
            return text
    return text[1:-1].strip()

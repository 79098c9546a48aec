"""A seminar series at a glance: per seminar registrations, attendance and survey; repeat attendees;
organizations reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsflow import store as db
from opsflow.after.report import percent
from opsflow.core.errors import NotFoundError
from opsflow.store import Store


@dataclass
class SeriesReport:
    series: str
    seminars: list[dict[str, Any]] = field(default_factory=list)
    repeat_attendees: int = 0  # people (by email) who attended two or more seminars of the series
    organizations: list[str] = field(default_factory=list)  # every organization with an attendee


def series_report(store: Store, series: str) -> SeriesReport:
    with store.read() as conn:
        events = [e for e in db.list_events(conn) if e["series"] == series]
        if not events:
            known = sorted({e["series"] for e in db.list_events(conn) if e["series"]})
            raise NotFoundError(f"no seminars of the series {series!r}: known series are {', '.join(known) or 'none'}")
        report = SeriesReport(series)
        seen: dict[str, int] = {}
        organizations: set[str] = set()
        for event in events:
            people = {r["id"]: r for r in db.list_registrants(conn, event["id"])}
            registered = sum(1 for r in people.values() if r["status"] == "active")
            attended = [a for a in db.list_attendance(conn, event["id"]) if a["is_attended"] and a["registrant_id"]]
            answers = db.list_survey_responses(conn, event["id"])
            for a in attended:
                person = people.get(a["registrant_id"])
                if person is None:
                    continue
                seen[person["email"]] = seen.get(person["email"], 0) + 1
                if person["organization"]:
                    organizations.add(person["organization"])
            answered = {r["registrant_id"] for r in answers} & {a["registrant_id"] for a in attended}
            report.seminars.append(
                {
                    "id": event["id"],
                    "title": event["title"],
                    "start_at": event["start_at"].isoformat(),
                    "registrations": registered,
                    "attendees": len(attended),
                    "attendance_rate": percent(len(attended), registered),
                    "survey_responses": len(answers),
                    "survey_rate": percent(len(answered), len(attended)),
                }
            )
    report.repeat_attendees = sum(1 for n in seen.values() if n >= 2)
    report.organizations = sorted(organizations)
    return report

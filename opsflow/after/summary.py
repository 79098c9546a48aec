"""The staff summary: attendance, deliveries and survey in one email, with a chart and the attendance CSV."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from opsflow import store as db
from opsflow.after.attendance import segments_from_report, timeline
from opsflow.after.report import attendance_csv, distinct_comments, percent, registrant_refs, report_summary
from opsflow.core.jobspec import Event
from opsflow.mail.message import Attachment
from opsflow.store import Store

if TYPE_CHECKING:
    from opsflow.after.chart import Chart

CHART_CID = "attendance-chart@opsflow"
COMMENTS_SHOWN = 5
# Free-text columns of a survey export, when the job file does not name them.
COMMENT_HEADER = re.compile(r"ご意見|ご感想|感想|コメント|自由|ご要望|comment|feedback|remarks", re.IGNORECASE)


def staff_summary(store: Store, event: Event, stage: str = "report") -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    """The `summary` template variables and the attachments (chart PNG, shown inline, and the CSV), in
    the event's language. Attendees are registrants who attended plus guests; the rate is registrants
    who attended of registrations, as `opsflow report show` gives them."""
    language = event.spec.event.language
    numbers = report_summary(store, event.id)
    people = numbers.pop("people")
    with store.read() as conn:
        counts = db.delivery_counts(conn, event.id)
        sources = {r["source"] for r in db.list_report_rows(conn, event.id)}
    survey = survey_numbers(
        store, event, {p["registrant_id"] for p in people if p["registrant_id"] and p["is_attended"]}
    )
    attachments: list[Attachment] = []
    chart = summary_chart(store, event)
    if chart is not None:
        attachments.append(Attachment("attendance.png", "image/png", chart.png, CHART_CID))
    attachments.append(Attachment(f"{event.id}-attendance.csv", "text/csv", attendance_csv(people, event.tz, language)))
    summary = {
        "registrations": numbers["registrations"],
        "attendees": numbers["attendees"],
        "attended_registrants": numbers["attended_registrants"],
        "guests": numbers["guests"],
        "attendance_rate": percent(numbers["attended_registrants"], numbers["registrations"]),
        "average_minutes": numbers["average_minutes"],
        "median_minutes": numbers["median_minutes"],
        "by_organization": numbers["by_organization"],
        "deliveries": {
            "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0),
            "ambiguous": counts.get("sending", 0),
            "deferred": counts.get("deferred", 0),
        },
        "survey": survey,
        "chart_cid": CHART_CID if chart is not None else None,
        # where attendance came from, worded by the template: "report" or "past_participants"
        "attendance_source": sources.pop() if len(sources) == 1 else None,
        "report_note": None,  # free text for staff; nothing to add today
        "stage": stage,
    }
    return summary, tuple(attachments)


def summary_chart(store: Store, event: Event) -> Chart | None:
    """The chart of people in the meeting over time, labelled in the event's language; None without a
    stored report. People are counted as the attendance table knows them, once however many devices."""
    with store.read() as conn:
        stored = db.list_report_rows(conn, event.id)
        refs = registrant_refs(conn, event.id)
    if not stored:
        return None
    from opsflow.after.chart import attendance_chart  # matplotlib: only when there is something to draw

    rows = [json.loads(r["row_json"]) for r in stored]
    points = timeline(segments_from_report(rows), event.start_at, event.end_at, registrants=refs)
    return attendance_chart(points, event.tz, event.spec.event.language)


def survey_numbers(store: Store, event: Event, attendees: set[int]) -> dict[str, Any] | None:
    """Responses, the rate among attendees (`attendees`: their registrant ids), and the latest free-text
    comments, each once; None before any import."""
    with store.read() as conn:
        responses = db.list_survey_responses(conn, event.id)
    if not responses:
        return None
    answers = [json.loads(r["answers_json"]) for r in responses]
    named = event.spec.survey.comment_columns if event.spec.survey else []
    comments = [
        str(value)
        for answer in reversed(answers)  # the latest first
        for column, value in answer.items()
        if column in named or (not named and COMMENT_HEADER.search(column))
    ]
    answered = sum(1 for r in responses if r["registrant_id"] in attendees)
    return {
        "responses": len(responses),
        "rate_text": percent(answered, len(attendees)),
        "comments": distinct_comments(comments)[:COMMENTS_SHOWN],  # the same words twice shown once
    }

"""The staff summary: attendance, deliveries and survey in one email, with a chart and the attendance CSV."""

from __future__ import annotations

import json
import re
from typing import Any

from opsflow import store as db
from opsflow.after.attendance import segments_from_report, timeline
from opsflow.after.report import attendance_csv, percent, report_summary
from opsflow.core.jobspec import Event
from opsflow.mail.message import Attachment
from opsflow.store import Store

CHART_CID = "attendance-chart@opsflow"
COMMENTS_SHOWN = 5
# Free-text columns of a survey export, when the job file does not name them.
COMMENT_HEADER = re.compile(r"ご意見|ご感想|感想|コメント|自由|ご要望|comment|feedback|remarks", re.IGNORECASE)


def staff_summary(store: Store, event: Event, stage: str = "report") -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    """The `summary` template variables and the attachments (chart PNG, shown inline, and the CSV)."""
    numbers = report_summary(store, event.id)
    people = numbers.pop("people")
    with store.read() as conn:
        counts = db.delivery_counts(conn, event.id)
        stored = db.list_report_rows(conn, event.id)
    rows = [json.loads(r["row_json"]) for r in stored]
    source = {r["source"] for r in stored}
    survey = survey_numbers(
        store, event, {p["registrant_id"] for p in people if p["registrant_id"] and p["is_attended"]}
    )
    attachments: list[Attachment] = []
    chart_cid = None
    if rows:
        from opsflow.after.chart import attendance_chart

        points = timeline(segments_from_report(rows), event.start_at, event.end_at)
        attachments.append(Attachment("attendance.png", "image/png", attendance_chart(points, event.tz), CHART_CID))
        chart_cid = CHART_CID
    attachments.append(Attachment(f"{event.id}-attendance.csv", "text/csv", attendance_csv(people, event.tz)))
    summary = {
        "registrations": numbers["registrations"],
        "attendees": numbers["attendees"],
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
        "chart_cid": chart_cid,
        "report_note": (
            "Zoom's report was not available; attendance comes from the past-meeting participants"
            if source == {"past_participants"}
            else None
        ),
        "stage": stage,
    }
    return summary, tuple(attachments)


def survey_numbers(store: Store, event: Event, attendees: set[int]) -> dict[str, Any] | None:
    """Responses, the rate among attendees (`attendees`: their registrant ids), and the latest free-text
    comments; None before any import."""
    with store.read() as conn:
        responses = db.list_survey_responses(conn, event.id)
    if not responses:
        return None
    answers = [json.loads(r["answers_json"]) for r in responses]
    named = event.spec.survey.comment_columns if event.spec.survey else []
    comments = []
    for answer in reversed(answers):  # the latest first
        for column, value in answer.items():
            if (column in named if named else COMMENT_HEADER.search(column)) and str(value).strip():
                comments.append(str(value).strip())
        if len(comments) >= COMMENTS_SHOWN:
            break
    answered = sum(1 for r in responses if r["registrant_id"] in attendees)
    return {
        "responses": len(responses),
        "rate_text": percent(answered, len(attendees)),
        "comments": comments[:COMMENTS_SHOWN],
    }

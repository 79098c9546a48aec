"""The questionnaire: sent to attendees (and a follow-up to those who missed the seminar), its export
imported and matched to people, a reminder to attendees who have not answered."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from opsflow import store as db
from opsflow.after.report import percent
from opsflow.core.config import Settings
from opsflow.core.errors import InputError, NotFoundError
from opsflow.core.jobspec import Event
from opsflow.mail.context import recipient_context, survey_url
from opsflow.mail.ledger import BatchReport
from opsflow.mail.send import AFTER_EVENT, recipients_for, record_mail_step, send_mail
from opsflow.registrants.csvfile import normalise_email, read_table
from opsflow.store import Store

TOKEN_COLUMNS = ("token", "トークン", "回答id", "id")
WEBHOOK_KEY = "survey.webhook"


def send_survey(
    store: Store,
    settings: Settings,
    event: Event,
    now: datetime,
    *,
    dry_run: bool = False,
    transport_factory=None,
    to: str | None = None,
    resend: bool = False,
    should_stop=None,
) -> list[BatchReport]:
    """The `survey.send` step: the survey to attendees, the follow-up to the others (when asked)."""
    if event.spec.survey is None:
        raise NotFoundError(f"{event.id} has no [survey] in its job file")
    if settings.survey_webhook_url and not dry_run:  # a bad webhook setting stops us before any mail goes out
        settings.require("survey_webhook_secret")
    names = ["survey"] + (["followup"] if event.spec.survey.followup else [])
    if not dry_run:
        ensure_tokens(store, event, now)
    reports = []
    for name in names:
        targets = recipients_for(store, event, AFTER_EVENT[name])
        if to is not None and to.strip().lower() not in targets:
            continue
        transport = transport_factory() if transport_factory else None
        reports.append(
            send_mail(
                store,
                settings,
                event,
                name,
                now,
                to=to,
                dry_run=dry_run,
                resend=resend,
                transport=transport,
                sync=False,
                should_stop=should_stop,
                record_step=False,
            )
        )
    if not dry_run and to is None:
        post_webhook(store, settings, event, now)
        record_mail_step(store, event, "survey.send", reports, now)
    return reports


def ensure_tokens(store: Store, event: Event, now: datetime) -> None:
    """Give every active registrant a survey token (the `{token}` of the survey link), once."""
    with store.begin() as conn:
        for row in db.list_registrants(conn, event.id, status="active"):
            if not row["survey_token"]:
                db.update_registrant(conn, row["id"], {"survey_token": secrets.token_urlsafe(9)}, now)


def post_webhook(store: Store, settings: Settings, event: Event, now: datetime) -> bool:
    """POST the survey recipients to OPSFLOW_SURVEY_WEBHOOK_URL, signed, once per seminar (ledger)."""
    url = settings.survey_webhook_url
    if not url:
        return False
    secret = settings.require("survey_webhook_secret")
    with store.begin() as conn:  # the ledger row names "webhook", never the URL (it may hold a token)
        db.claim_deliveries(conn, event.id, WEBHOOK_KEY, ["webhook"], now)
        row = db.list_deliveries(conn, event.id, message_key=WEBHOOK_KEY)[0]
        if row["state"] == "sent":
            return False
    with store.read() as conn:
        people = db.list_registrants(conn, event.id, status="active")
        attended = {a["registrant_id"] for a in db.list_attendance(conn, event.id) if a["is_attended"]}
    recipients = []
    survey = event.spec.survey
    for p in people:
        assert survey is not None  # send_survey, the caller, refuses an event without [survey]
        person = recipient_context(dict(p), None)
        recipients.append(
            {
                "email": p["email"],
                "name": p["name"],
                "organization": p["organization"],
                "token": p["survey_token"],
                "attended": p["id"] in attended,
                "survey_url": survey_url(survey.url, person, p["survey_token"] or ""),
            }
        )
    payload = {
        "event": event.id,
        "title": event.title,
        "start_at": event.start_at.isoformat(),
        "recipients": recipients,
    }
    from opsflow.after.webhook import post_recipients

    post_recipients(url, secret, payload, str(int(now.timestamp())))
    with store.begin() as conn:
        db.finish_delivery(conn, row["id"], {"state": "sent", "sent_at": now}, now)
    return True


@dataclass
class ImportResult:
    event_id: str
    encoding: str
    matched: int = 0
    by_token: int = 0
    by_email: int = 0
    unmatched: list[int] = field(default_factory=list)  # spreadsheet rows of answers nobody could be matched to
    duplicates: list[int] = field(default_factory=list)  # rows replaced by a later answer of the same person
    attendees: int = 0
    answered_attendees: int = 0

    @property
    def rate_text(self) -> str:
        """Answers among attendees, as a percentage."""
        return percent(self.answered_attendees, self.attendees)


def import_responses(
    store: Store, event: Event, path: Path, now: datetime, *, encoding: str | None = None
) -> ImportResult:
    """Read the survey export and match each answer to a registrant by token, else by email."""
    table = read_table(path, encoding=encoding, kind="survey answers CSV")
    token_column = next((h for h in table.headers if h.strip().lower() in TOKEN_COLUMNS), None)
    email_column = table.column("email", str(path))
    if token_column is None and email_column is None:
        raise InputError(
            f"{path}:{table.header_row}: no token or email column to match answers to people; the "
            f"columns are: {', '.join(table.headers)}; put {{token}} or {{email}} in the survey URL so the form "
            "records it"
        )
    with store.read() as conn:
        people = db.list_registrants(conn, event.id)
        attended = {
            a["registrant_id"]
            for a in db.list_attendance(conn, event.id)
            if a["is_attended"] and a["registrant_id"] is not None
        }
    by_token = {p["survey_token"]: p for p in people if p["survey_token"]}
    by_email = {p["email"]: p for p in people}
    result = ImportResult(event.id, table.encoding, attendees=len(attended))
    kept: dict[object, dict] = {}
    for row_number, answers in table.rows:
        person, how = None, None
        if token_column and answers.get(token_column) in by_token:
            person, how = by_token[answers[token_column]], "token"
        elif email_column and normalise_email(answers.get(email_column, "")) in by_email:
            person, how = by_email[normalise_email(answers[email_column])], "email"
        if person is None:
            result.unmatched.append(row_number)
            key: object = ("row", row_number)
        else:
            key = person["id"]
            if key in kept:
                result.duplicates.append(kept[key]["row_number"])
            setattr(result, f"by_{how}", getattr(result, f"by_{how}") + 1)
        kept[key] = {
            "registrant_id": person["id"] if person else None,
            "email": person["email"] if person else normalise_email(answers.get(email_column or "", "")),
            "row_number": row_number,
            "answers_json": json.dumps(answers, ensure_ascii=False),
        }
    result.matched = sum(1 for k in kept if not isinstance(k, tuple))
    result.answered_attendees = sum(1 for k in kept if k in attended)
    with store.begin() as conn:
        db.replace_survey_responses(conn, event.id, list(kept.values()), now)
    return result

"""Registration with Zoom: personal join links for every registrant, cancellations, and people who
registered on Zoom's own page pulled in.

Order matters: pulling Zoom's list first tells us who is registered already, so nobody is sent twice;
each batch of 30 is recorded as soon as Zoom answers, so a crash loses at most one batch's answers
(registering the same email again gives back the same registrant, so the rerun is harmless).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from opsflow import store as db
from opsflow.core.errors import NotFoundError
from opsflow.core.jobspec import Event
from opsflow.registrants.csvfile import CANDIDATES, LANGUAGE_HINT, language_code, normalise_email, split_name
from opsflow.store import Store
from opsflow.zoom import Zoom
from opsflow.zoom.api import BATCH_SIZE, Kind


@dataclass
class SyncReport:
    event_id: str
    registered: int = 0
    cancelled: int = 0
    pulled: list[str] = field(default_factory=list)
    skipped_hosts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # for people: the person's row, and what was done


def sync_zoom(store: Store, zoom: Zoom, event: Event, now: datetime) -> SyncReport:
    """Register active people with Zoom, cancel cancelled ones, and pull in Zoom's own registrations."""
    spec = event.spec.zoom
    report = SyncReport(event.id)
    if spec is None or not spec.registration:
        return report
    with store.read() as conn:
        meeting = db.get_zoom_meeting(conn, event.id)
    if meeting is None or meeting["state"] != "created":
        raise NotFoundError(f"{event.id} has no Zoom meeting yet: run `opsflow zoom create {event.id}` first")
    kind, meeting_id = meeting["kind"], meeting["meeting_id"]
    hosts = {h.lower() for h in (meeting["host_email"], spec.host, *spec.alternative_hosts) if h and "@" in h}

    _pull(store, zoom, event, kind, meeting_id, now, report)

    with store.read() as conn:
        people = db.list_registrants(conn, event.id)
    to_register = []
    for row in people:
        if row["status"] != "active" or row["zoom_registrant_id"]:
            continue
        if row["email"] in hosts:
            report.skipped_hosts.append(row["email"])
            continue
        to_register.append(row)
    by_email = {row["email"]: row for row in to_register}
    for start in range(0, len(to_register), BATCH_SIZE):
        chunk = to_register[start : start + BATCH_SIZE]
        answers = list(zoom.batch_register(kind, meeting_id, [_zoom_person(row) for row in chunk]))
        with store.begin() as conn:
            for answer in answers:
                row = by_email.get((answer.get("email") or "").lower())
                if row is not None:
                    db.update_registrant(
                        conn,
                        row["id"],
                        {
                            "zoom_registrant_id": answer.get("registrant_id"),
                            "join_url": answer.get("join_url"),
                            "zoom_status": "approved",
                        },
                        now,
                    )
                    report.registered += 1

    to_cancel = [
        row
        for row in people
        if row["status"] == "cancelled" and row["zoom_status"] == "approved" and row["zoom_registrant_id"]
    ]
    for start in range(0, len(to_cancel), BATCH_SIZE):
        chunk = to_cancel[start : start + BATCH_SIZE]
        zoom.cancel_registrants(kind, meeting_id, [{"id": r["zoom_registrant_id"], "email": r["email"]} for r in chunk])
        with store.begin() as conn:
            for row in chunk:
                db.update_registrant(conn, row["id"], {"zoom_status": "cancelled"}, now)
        report.cancelled += len(chunk)
    return report


def _pull(
    store: Store, zoom: Zoom, event: Event, kind: Kind, meeting_id: int, now: datetime, report: SyncReport
) -> None:
    """Record Zoom's registrants: links we lack, and people who registered on Zoom's page.

    Zoom's list is read in full before the write transaction opens (a slow Zoom must not hold the
    database), and de-duplicated by normalised email (Zoom may list someone twice: in another letter
    case, or on two pages while people register)."""
    event_id = event.id
    listed: dict[str, dict] = {}
    for registrant in zoom.list_registrants(kind, meeting_id):
        email = normalise_email(registrant.get("email") or "")
        if email is not None and email not in listed:
            listed[email] = registrant
    with store.begin() as conn:
        db.lock_event(conn, event_id)
        known = {row["email"]: row for row in db.list_registrants(conn, event_id)}
        for email, registrant in listed.items():
            link = {
                "zoom_registrant_id": registrant.get("id"),
                "join_url": registrant.get("join_url"),
                "zoom_status": "approved",
            }
            row = known.get(email)
            if row is None:
                name = " ".join(p for p in (registrant.get("last_name"), registrant.get("first_name")) if p)
                family, given = split_name(name)
                db.insert_registrant(
                    conn,
                    event_id,
                    {
                        "email": email,
                        "name": name or email,
                        "family_name": family,
                        "given_name": given,
                        "source": "zoom",
                        "language": _answered_language(event, registrant, email, name, report),
                        **link,
                    },
                    now,
                )
                report.pulled.append(email)
            elif not row["zoom_registrant_id"]:
                db.update_registrant(conn, row["id"], link, now)
        if report.pulled:
            db.reopen_invitations(conn, event_id, now)


def _language_titles(event: Event) -> set[str]:
    """The titles of a registration question that asks for the language, compared as `_title_key`
    writes them: the CSV's default names (言語, Language, ...) and the job file's column name."""
    titles = {_title_key(t) for t in CANDIDATES["language"]}
    columns = event.spec.registrants.columns if event.spec.registrants else None
    if columns is not None and columns.language:
        titles.add(_title_key(columns.language))
    return titles


def _title_key(title: str) -> str:
    return "".join(unicodedata.normalize("NFKC", title).lower().split())


def _answered_language(event: Event, registrant: dict, email: str, name: str, report: SyncReport) -> str | None:
    """The language a person chose in Zoom's registration form (a custom question titled 言語 or
    Language), None for the seminar's. An answer that is neither ja nor en is no reason to leave them
    out (they did register): they get the seminar's language, and the sync says so."""
    titles = _language_titles(event)
    for question in registrant.get("custom_questions") or []:
        if not isinstance(question, dict) or _title_key(str(question.get("title") or "")) not in titles:
            continue
        answer = str(question.get("value") or "")
        code = language_code(answer)
        if code is None:
            seminar = event.spec.event.language
            report.warnings.append(
                f"{email} ({name or 'no name'}), registered on Zoom's page: {question.get('title')} "
                f"'{answer}' is neither ja nor en: they get mail in the seminar's language ({seminar}); for "
                f"the other one, add them to the registrants CSV with its language column ({LANGUAGE_HINT})"
            )
        return code or None
    return None


def _zoom_person(row) -> dict[str, str]:
    """Zoom wants first and last names: the given name as first, the family name as last."""
    first = row["given_name"] or row["name"] or row["email"].split("@")[0]
    person = {"email": row["email"], "first_name": first[:64]}
    if row["family_name"]:
        person["last_name"] = row["family_name"][:64]
    return person

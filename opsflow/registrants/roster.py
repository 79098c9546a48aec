"""The registrants of a seminar in the store: incremental CSV import, add, cancel, list, purge.

A person is keyed by normalised email. Importing again adds new people, updates changed ones, and
cancels CSV people who are no longer in the file (they get no further mail). Someone cancelled by
the organizer stays cancelled whatever the CSV says.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsflow import store as db
from opsflow.core.errors import InputError, NotFoundError
from opsflow.registrants.csvfile import (
    LANGUAGE_HINT,
    CsvRead,
    Duplicate,
    Person,
    RegistrantsFile,
    RowProblem,
    language_code,
    normalise_email,
    split_name,
)
from opsflow.store import Store

REMOVED_FROM_CSV = "removed-from-csv"
BY_ORGANIZER = "organizer"
COMPARED = ("name", "family_name", "given_name", "organization", "department", "fields_json", "language")
CHUNK = 500  # people compared and written at a time
COMPARED_WITH = ("id", "status", "cancel_reason", *COMPARED)  # what an import reads of a stored person


@dataclass
class ImportReport:
    """What an import did (or would do with --dry-run). Lists hold emails."""

    event_id: str
    source: str
    encoding: str
    dry_run: bool = False
    added: list[str] = field(default_factory=list)
    updated: list[tuple[str, list[str]]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    kept_cancelled: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    blank_rows: int = 0

    @property
    def is_changed(self) -> bool:
        return bool(self.added or self.updated or self.cancelled or self.reactivated)


def person_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "organization": person.organization,
        "department": person.department,
        "fields_json": json.dumps(person.fields, ensure_ascii=False, sort_keys=True),
        "language": person.language or None,  # NULL: the seminar's language, whatever it becomes
    }


def import_people(
    store: Store, event_id: str, read: CsvRead | RegistrantsFile, now: datetime, *, dry_run: bool = False
) -> ImportReport:
    """Bring the event's CSV registrants in line with `read`, in one transaction. The people are
    compared with the stored ones and written a chunk at a time, so that memory stays flat however
    long the list (with a RegistrantsFile, the file is never held whole either)."""
    report = ImportReport(
        event_id,
        str(read.path),
        read.encoding,
        dry_run,
        problems=list(read.problems),
        duplicates=list(read.duplicates),
        blank_rows=read.blank_rows,
    )
    with store.begin() as conn:
        _require_event(conn, event_id)
        db.lock_event(conn, event_id)  # two runners importing at once take turns, each seeing the other's rows
        if not read.count:
            active_csv = db.count_registrants(conn, event_id, source="csv", status="active")
            if active_csv:
                raise InputError(
                    f"{read.path} has no valid registrants, but {active_csv} people of {event_id} came from a CSV: "
                    "nothing was changed. Check that it is the right file; to cancel people, use "
                    "`opsflow registrants cancel`"
                )
        for people in _chunks(read.iter_people(), CHUNK):
            _import_chunk(conn, event_id, people, report, now, dry_run)
        _cancel_missing(conn, event_id, read.emails, report, now, dry_run)
        if not dry_run and (report.added or report.reactivated):
            db.reopen_invitations(conn, event_id, now)
    return report


def _import_chunk(
    conn, event_id: str, people: list[Person], report: ImportReport, now: datetime, dry_run: bool
) -> None:
    existing = db.registrants_by_email(conn, event_id, [p.email for p in people], COMPARED_WITH)
    added = []
    for person in people:
        values = {**person_values(person), "row_number": person.row}
        row = existing.get(person.email)
        if row is None:
            report.added.append(person.email)
            added.append({"email": person.email, "source": "csv", **values})
            continue
        changed = [k for k in COMPARED if row[k] != values[k]]
        if row["status"] == "cancelled":
            if row["cancel_reason"] == BY_ORGANIZER:
                report.kept_cancelled.append(person.email)
                continue
            report.reactivated.append(person.email)
            values |= {"status": "active", "cancel_reason": None}
        elif changed:
            report.updated.append((person.email, changed))
        else:
            report.unchanged += 1
            continue
        if not dry_run:
            db.update_registrant(conn, row["id"], values, now)
    if not dry_run:
        db.insert_registrants(conn, event_id, added, now)  # in the order of the file: ids keep it


def _cancel_missing(
    conn, event_id: str, in_file: Container[str], report: ImportReport, now: datetime, dry_run: bool
) -> None:
    """Cancel the active people from a CSV who are no longer in this one."""
    after_id = 0
    while rows := db.registrant_emails(conn, event_id, source="csv", status="active", after_id=after_id, limit=CHUNK):
        after_id = rows[-1].id
        for registrant_id, email in rows:
            if email not in in_file:
                report.cancelled.append(email)
                if not dry_run:
                    values = {"status": "cancelled", "cancel_reason": REMOVED_FROM_CSV}
                    db.update_registrant(conn, registrant_id, values, now)


def _chunks(people: Iterable[Person], size: int) -> Iterator[list[Person]]:
    chunk: list[Person] = []
    for person in people:
        chunk.append(person)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def add_person(
    store: Store,
    event_id: str,
    email: str,
    name: str,
    now: datetime,
    *,
    organization: str = "",
    department: str = "",
    language: str | None = None,
) -> str:
    """Register one person by hand (source `manual`); returns what happened, for people. `language`
    (ja, en, 日本語, ...) is the one they are mailed in; None keeps theirs (the seminar's for someone new)."""
    address = normalise_email(email)
    if address is None:
        raise InputError(f"{email!r} is not a valid email address")
    if not name.strip():
        raise InputError("give the person's name with --name, e.g. --name '山田 太郎'")
    code = language_code(language) if language is not None else None
    if language is not None and not code:
        raise InputError(f"--language {language!r} is not a language opsflow mails in; {LANGUAGE_HINT}")
    family, given = split_name(name)
    values = {
        "name": " ".join(name.split()),
        "family_name": family,
        "given_name": given,
        "organization": organization.strip(),
        "department": department.strip(),
    }
    if code:
        values["language"] = code
    with store.begin() as conn:
        _require_event(conn, event_id)
        db.lock_event(conn, event_id)
        row = db.get_registrant(conn, event_id, address)
        if row is None:
            db.insert_registrant(conn, event_id, {"email": address, "source": "manual", **values}, now)
            return f"{address} added" + _invited_later(conn, event_id, now)
        if row["status"] == "cancelled":
            db.update_registrant(conn, row["id"], {**values, "status": "active", "cancel_reason": None}, now)
            return f"{address} registered again" + _invited_later(conn, event_id, now)
        db.update_registrant(conn, row["id"], values, now)
        return f"{address} was already registered; name and organization updated"


def _invited_later(conn, event_id: str, now: datetime) -> str:
    if db.reopen_invitations(conn, event_id, now):
        return "; the invitation goes to them at the next run (`opsflow run-due`)"
    return ""


def cancel_person(store: Store, event_id: str, email: str, now: datetime) -> str:
    """Cancel one person: no further mail, and their Zoom registration is cancelled at the next sync."""
    address = normalise_email(email) or email.strip().lower()
    with store.begin() as conn:
        _require_event(conn, event_id)
        db.lock_event(conn, event_id)
        row = db.get_registrant(conn, event_id, address)
        if row is None:
            raise NotFoundError(
                f"{address} is not registered for {event_id}: see `opsflow registrants list {event_id}`"
            )
        if row["status"] == "cancelled" and row["cancel_reason"] == BY_ORGANIZER:
            return f"{address} was already cancelled"
        db.update_registrant(conn, row["id"], {"status": "cancelled", "cancel_reason": BY_ORGANIZER}, now)
    return f"{address} cancelled"


def list_people(store: Store, event_id: str) -> list[dict[str, Any]]:
    """Every registrant of the event, active and cancelled, with the join link to use for each."""
    with store.read() as conn:
        _require_event(conn, event_id)
        meeting = db.get_zoom_meeting(conn, event_id)
        rows = db.list_registrants(conn, event_id)
    return [
        {**dict(row), "fields": json.loads(row["fields_json"]), "join_link": join_link(dict(row), meeting)}
        for row in rows
    ]


def join_link(registrant, meeting) -> str | None:
    """The person's own Zoom link when they are registered with Zoom, else the meeting's."""
    if registrant.get("join_url"):
        return registrant["join_url"]
    return meeting["join_url"] if meeting is not None and meeting["state"] == "created" else None


def purge(store: Store, event_id: str, older_than: timedelta, now: datetime, *, dry_run: bool = False) -> str:
    """Remove the personal data of an event that ended more than `older_than` ago; counts are kept."""
    with store.begin() as conn:
        event = _require_event(conn, event_id)
        if event["purged_at"] is not None:
            return f"{event_id}: personal data was already purged on {event['purged_at']:%Y-%m-%d}"
        due = event["end_at"] + older_than
        if now < due:
            raise InputError(
                f"{event_id} ended on {event['end_at']:%Y-%m-%d}; with --older-than "
                f"{older_than.days}d its personal data can be purged from {due:%Y-%m-%d}: nothing purged"
            )
        count = len(db.list_registrants(conn, event_id))
        if dry_run:
            return f"(dry run) {event_id}: would purge the personal data of {count} registrants"
        db.purge_event(conn, event_id, now)
    return f"{event_id}: purged the personal data of {count} registrants; counts and organizations are kept"


def _require_event(conn, event_id: str):
    row = db.get_event(conn, event_id)
    if row is None:
        raise NotFoundError(f"no event {event_id!r} in the database: check the id, or run `opsflow apply`")
    return row

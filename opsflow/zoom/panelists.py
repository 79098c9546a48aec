"""A webinar's panelists (the speakers): added once each, in calls of at most 30, listed with their links.

Adding reads Zoom's list first and sends only the people whose email (in any letter case) is not on it,
so running it again adds nobody. Zoom's own invitation to panelists is a webinar setting
(`panelists_invitation_email_notification`), not something these calls decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opsflow.core.errors import InputError, ZoomApiError, ZoomError
from opsflow.zoom.api import PANELIST_BATCH_SIZE, Zoom

log = logging.getLogger("opsflow.zoom.panelists")


@dataclass(frozen=True)
class Panelist:
    """A panelist as Zoom lists them; `join_url` is their own link, which lets them in as a panelist."""

    id: str
    name: str
    email: str
    join_url: str


@dataclass
class PanelistReport:
    """What `add_panelists` did: who was added now and who was a panelist already (input order each)."""

    added: list[Panelist] = field(default_factory=list)
    existing: list[Panelist] = field(default_factory=list)

    @property
    def panelists(self) -> list[Panelist]:
        """Everyone asked for, with their links."""
        return self.existing + self.added


def list_panelists(zoom: Zoom, webinar_id: int | str) -> list[Panelist]:
    """The webinar's panelists, once each: a row Zoom repeats (the same email in another letter case,
    or the same id) is dropped. Zoom answers the whole list at once; it has no pages."""
    answer = zoom.get_panelists(webinar_id)
    rows = answer.get("panelists") or []
    seen: set[str] = set()
    panelists: list[Panelist] = []
    for row in rows:
        email = str(row.get("email") or "").strip()
        panelist_id = str(row.get("id") or "")
        keys = {k for k in (email.lower(), panelist_id) if k}
        if not keys or keys & seen:
            continue
        seen |= keys
        panelists.append(Panelist(panelist_id, str(row.get("name") or ""), email, str(row.get("join_url") or "")))
    total = answer.get("total_records")
    if isinstance(total, int) and total > len(rows):
        log.warning("Zoom counts %d panelists of webinar %s but listed %d rows", total, webinar_id, len(rows))
    return panelists


def add_panelists(zoom: Zoom, webinar_id: int | str, people: Iterable[Mapping[str, str]]) -> PanelistReport:
    """Make each person ({name, email}) a panelist of the webinar; those already there are left as
    they are (their name is not changed). Safe to run again, and after a call that timed out."""
    wanted: dict[str, dict[str, str]] = {}
    for person in people:
        name, email = str(person.get("name") or "").strip(), str(person.get("email") or "").strip()
        if not name or "@" not in email:
            raise InputError(
                f"a webinar panelist needs a name and an email address, got name {name!r} and email {email!r}: "
                "give each speaker both"
            )
        wanted.setdefault(email.lower(), {"name": name, "email": email})
    current = {p.email.lower(): p for p in list_panelists(zoom, webinar_id)}
    missing = [person for key, person in wanted.items() if key not in current]
    for start in range(0, len(missing), PANELIST_BATCH_SIZE):
        zoom.post_panelists(webinar_id, missing[start : start + PANELIST_BATCH_SIZE])
    report = PanelistReport(existing=[current[key] for key in wanted if key in current])
    if not missing:
        return report
    listed = {p.email.lower(): p for p in list_panelists(zoom, webinar_id)}
    absent = [person["email"] for person in missing if person["email"].lower() not in listed]
    if absent:
        raise ZoomApiError(
            f"Zoom accepted the panelists of webinar {webinar_id} but does not list {', '.join(absent)}: "
            "check the webinar's panelists on Zoom (the webinar plan may limit their number)"
        )
    report.added = [listed[person["email"].lower()] for person in missing]
    log.info("webinar %s: %d panelists added, %d already there", webinar_id, len(report.added), len(report.existing))
    return report


def remove_panelist(zoom: Zoom, webinar_id: int | str, panelist_id: str) -> bool:
    """Remove one panelist (by id or email). Returns False when Zoom no longer has them (404), or
    no longer has the webinar: either way they are not a panelist."""
    try:
        zoom.delete_panelist(webinar_id, panelist_id)
    except ZoomError as exc:
        if exc.status != 404:
            raise
        log.info("panelist %s of webinar %s was already gone (%s)", panelist_id, webinar_id, exc.zoom_message)
        return False
    return True


def remove_all_panelists(zoom: Zoom, webinar_id: int | str) -> None:
    """Remove every panelist of the webinar."""
    zoom.delete_panelists(webinar_id)

"""The speakers on a webinar: made panelists (only those not there yet), their own links read back, and a
speaker taken out of the job file removed again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsflow import store as db
from opsflow.core.errors import NotFoundError
from opsflow.core.jobspec import Event
from opsflow.mail.speakers.people import addressed_speakers
from opsflow.store import Store


def is_webinar(store: Store, event: Event) -> bool:
    """Whether the speakers' links are panelist links: the seminar is (or was created as) a webinar."""
    if event.spec.zoom is None:
        return False
    with store.read() as conn:
        row = db.get_zoom_meeting(conn, event.id)
    kind = row["kind"] if row is not None and row["kind"] else event.spec.zoom.kind
    return kind == "webinar"


@dataclass
class Panelists:
    """What the speakers are on the webinar: emails added now, already there, removed; their links."""

    webinar_id: int
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # ledger address -> their own panelist link

    def as_dict(self) -> dict[str, Any]:
        return {"webinar_id": self.webinar_id, "added": self.added, "existing": self.existing, "removed": self.removed}

    def text(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.existing)} already there"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        return "panelists: " + ", ".join(parts)


def created_meeting(store: Store, event: Event) -> dict | None:
    """The seminar's Zoom meeting (or webinar) once it is created; None before."""
    with store.read() as conn:
        row = db.get_zoom_meeting(conn, event.id)
    return dict(row) if row is not None and row["state"] == "created" else None


def ensure_panelists(store: Store, zoom, event: Event, *, remove_gone: bool = False) -> Panelists:
    """Make every speaker with an email a panelist of the seminar's webinar (those already there are left
    alone) and read their links. With `remove_gone`, a panelist who had this seminar's request but is no
    longer a speaker with an email in the job file is removed; panelists added on Zoom by hand are kept."""
    from opsflow.zoom.panelists import add_panelists, list_panelists, remove_panelist

    meeting = created_meeting(store, event)
    if meeting is None:
        raise NotFoundError(
            f"{event.id} has no webinar on Zoom yet, so the speakers have no panelist links: "
            f"run `opsflow zoom create {event.id}` (or wait for its zoom.create step)"
        )
    speakers = addressed_speakers(event)
    report = add_panelists(
        zoom, meeting["meeting_id"], [{"name": a.speaker.name, "email": a.speaker.email or ""} for a in speakers]
    )
    result = Panelists(
        meeting["meeting_id"],
        added=[p.email.lower() for p in report.added],
        existing=[p.email.lower() for p in report.existing],
        links={p.email.lower(): p.join_url for p in report.panelists},
    )
    if remove_gone:
        with store.read() as conn:
            asked = {r["recipient"] for r in db.list_deliveries(conn, event.id, message_key="speakers.request")}
        gone = asked - {a.key for a in speakers}
        if gone:
            for panelist in list_panelists(zoom, meeting["meeting_id"]):
                if panelist.email.lower() in gone and remove_panelist(zoom, meeting["meeting_id"], panelist.id):
                    result.removed.append(panelist.email.lower())
    return result

"""Registrants; `sync_registrants` is the `registrants.sync` step.

- `csvfile`: the registration form's CSV: column names, bad rows, duplicates; read whole or in passes.
- `csvtext`: a CSV file's bytes as text: encodings detected (a block at a time) or given, rows numbered.
- `roster`: the registrants in the store: incremental import, add, cancel, list, purge.
- `zoomsync`: registration with Zoom for personal join links, and Zoom's own registrations pulled in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from opsflow import store as db
from opsflow.core.jobspec import Event
from opsflow.registrants.csvfile import CsvRead, RegistrantsFile, read_registrants
from opsflow.registrants.roster import ImportReport, import_people
from opsflow.registrants.zoomsync import SyncReport, sync_zoom
from opsflow.store import Store


def event_csv_path(event: Event) -> Path:
    """The job file's registrants CSV (its path is relative to the job file)."""
    if event.spec.registrants is None:
        from opsflow.core.errors import NotFoundError

        raise NotFoundError(
            f"{event.id} has no [registrants] csv in its job file: name the CSV file on the "
            "command line, or add one to the job file"
        )
    return event.path.parent / event.spec.registrants.csv


def read_event_csv(event: Event, path: Path | None = None) -> CsvRead:
    """Read the event's registrants CSV (or `path`) with the job file's encoding and column names."""
    return read_registrants(path or event_csv_path(event), **_csv_options(event))


def scan_event_csv(event: Event, path: Path | None = None) -> RegistrantsFile:
    """The event's registrants CSV (or `path`) as `read_event_csv` reads it, without holding its rows
    (for the import before a mail, whatever the length of the list)."""
    return RegistrantsFile(path or event_csv_path(event), **_csv_options(event))


def _csv_options(event: Event) -> dict:
    spec = event.spec.registrants
    columns = {k: v for k, v in spec.columns.model_dump().items() if v is not None} if spec else {}
    return {"encoding": spec.encoding if spec else None, "columns": columns}


def sync_registrants(
    store: Store, make_zoom: Callable, event: Event, now: datetime
) -> tuple[ImportReport | None, SyncReport | None]:
    """The `registrants.sync` step: import the CSV, then register with Zoom when the job asks for it."""
    imported = import_people(store, event.id, scan_event_csv(event), now) if event.spec.registrants else None
    synced = None
    if event.spec.zoom is not None and event.spec.zoom.registration:
        synced = sync_zoom(store, make_zoom(), event, now)
    with store.begin() as conn:
        db.finish_step(conn, event.id, "registrants.sync", "done", now)
    return imported, synced


__all__ = [
    "CsvRead",
    "ImportReport",
    "RegistrantsFile",
    "SyncReport",
    "event_csv_path",
    "import_people",
    "read_event_csv",
    "read_registrants",
    "scan_event_csv",
    "sync_registrants",
    "sync_zoom",
]

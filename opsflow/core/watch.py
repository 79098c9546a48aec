"""Job files (and their registrant CSVs) that changed since they were applied: found and applied again.

`opsflow run-due` and `opsflow scheduler` call `refresh_jobs` before running due steps, so a seminar
moved in its job file moves its steps (and its Zoom meeting) without anyone running `apply`, and a new
CSV export is synced. A job file with an error holds back its own seminar's steps, never the others'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from opsflow import store as db
from opsflow.core.apply import ApplyResult, file_stat
from opsflow.core.errors import JobFileErrors, OpsflowError

if TYPE_CHECKING:  # the job-file models load only when a job file changed
    from opsflow.core.jobspec import Event
    from opsflow.store import Store


@dataclass
class Refresh:
    """What `refresh_jobs` did: results of the files applied again, and problems for people."""

    applied: list[ApplyResult] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (event id, what was done), e.g. Zoom updated
    errors: list[tuple[str, str]] = field(default_factory=list)  # (event id or file, what is wrong and what to do)
    held: set[str] = field(default_factory=set)  # events whose job file has an error: their steps wait


def changed_job_files(store: Store, jobs_dir: Path, recorded: dict | None = None) -> list[Path]:
    """Job files in `jobs_dir` that are new, or that changed (or whose CSV changed) since applied.
    `recorded` is the `job_files` table by path, when the caller has read it already."""
    if not jobs_dir.is_dir():
        return []
    if recorded is None:
        recorded = _recorded(store)
    changed = []
    for path in sorted(jobs_dir.glob("*.toml")):
        row = recorded.get(str(path.resolve()))
        if row is None or file_stat(path) != (row["mtime_ns"], row["size"]):
            changed.append(path)
        elif row["csv_path"] and file_stat(Path(row["csv_path"])) != (row["csv_mtime_ns"], row["csv_size"]):
            changed.append(path)
    return changed


def refresh_jobs(store: Store, make_zoom: Callable, jobs_dir: Path, now: datetime, *, dry_run: bool = False) -> Refresh:
    """Apply again every job file of `jobs_dir` that changed; tell Zoom about moved seminars."""
    refresh = Refresh()
    recorded = _recorded(store)
    changed = changed_job_files(store, jobs_dir, recorded)
    if not changed:
        return refresh
    from opsflow.core.apply import apply_events
    from opsflow.core.jobspec import load_job
    from opsflow.zoom.meeting import sync_after_apply

    for path in changed:
        known = recorded.get(str(path.resolve()))
        try:
            event = load_job(path)
            _check_id(event, path, recorded)
            results = apply_events(store, [event], now, dry_run=dry_run)
        except OpsflowError as exc:
            owner = known["event_id"] if known else str(path)
            refresh.errors.append(
                (owner, f"{exc}; its seminar's steps wait until the job file is fixed" if known else str(exc))
            )
            if known:
                refresh.held.add(known["event_id"])
            continue
        refresh.applied += [r for r in results if r.is_changed]
        try:
            outcomes = sync_after_apply(store, make_zoom, [event], now, dry_run=dry_run)
        except OpsflowError as exc:  # tried again at the next run: the file counts as not yet applied
            refresh.errors.append((event.id, f"Zoom was not told about the change: {exc}"))
            if not dry_run:
                with store.begin() as conn:
                    db.forget_job_file(conn, str(path.resolve()))
            continue
        refresh.notes += [(o.event_id, f"zoom: {o.message}") for o in outcomes]
    return refresh


def _recorded(store: Store) -> dict:
    with store.read() as conn:
        return {row["path"]: row for row in db.list_job_files(conn)}


def _check_id(event: Event, path: Path, recorded: dict) -> None:
    """An event id belongs to one job file: a second file with the same id must not overwrite it."""
    mine = str(path.resolve())
    for other, row in recorded.items():
        if row["event_id"] == event.id and other != mine and Path(other).is_file():
            raise JobFileErrors(
                [
                    event.error(
                        "event.id", f"event id {event.id!r} is already used by {other}; every seminar needs its own id"
                    )
                ]
            )

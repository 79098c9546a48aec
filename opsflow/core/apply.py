"""Reconcile job files into the store: new events get their steps, moved events move their pending steps.

A step that has started (running, done, failed, missed) is never touched: the store records what happened.
`diff_event` is pure; `apply_events` writes what it returns in one transaction per event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from opsflow import store as db

if TYPE_CHECKING:  # the job-file models load only when a file is applied (`watch` imports `file_stat` early)
    from opsflow.core.jobspec import Event
    from opsflow.core.plan import Step
    from opsflow.store import Store

PENDING = ("planned",)


@dataclass
class Change:
    """One change `apply` makes (or would make with --dry-run)."""

    action: str  # add-event, update-event, add-step, move-step, cancel-step, restore-step, keep-step, sync-again
    step_key: str | None
    message: str
    values: dict = field(default_factory=dict, repr=False)
    step_id: int | None = field(default=None, repr=False)


@dataclass
class ApplyResult:
    event_id: str
    path: str
    changes: list[Change]

    @property
    def is_changed(self) -> bool:
        return any(c.action != "keep-step" for c in self.changes)


def apply_events(store: Store, events: list[Event], now: datetime, *, dry_run: bool = False) -> list[ApplyResult]:
    """Bring the store in line with `events`. With `dry_run`, compute and return the changes only."""
    results = []
    now = now.replace(microsecond=0)
    from opsflow.core.plan import plan_events

    planned = plan_events(events)  # every plan is valid before anything is written
    for event, steps in planned:
        with store.begin() as conn:
            if not dry_run:
                db.lock_apply(conn)
            row = db.get_event(conn, event.id)
            existing = db.list_steps(conn, [event.id]) if row else []
            changes = diff_event(event, steps, row, existing, now)
            if not dry_run:
                _write(conn, event, changes, now)
                changes += _note_files(conn, event, now)
        results.append(ApplyResult(event.id, str(event.path), changes))
    return results


def diff_event(event: Event, steps: list[Step], row, existing: list, now: datetime) -> list[Change]:
    """The changes that bring the stored event `row` and its `existing` steps in line with the plan."""
    values = _event_values(event)
    if row is None:
        if event.spec.event.cancelled:
            return [Change("add-event", None, "new event, cancelled: no steps planned", values)]
        changes: list[Change] = [Change("add-event", None, f"new event, {len(steps)} steps planned", values)]
        changes += [Change("add-step", s.key, "", _step_values(s, now)) for s in steps]
        return changes
    if row["spec_hash"] == values["spec_hash"] and row["source_path"] == values["source_path"]:
        return []

    changes = []
    moved = row["start_at"] != event.start_at or row["end_at"] != event.end_at
    notify = event.spec.event.notify_changes and _was_invited(existing)
    if _calendar_changed(event, row, moved):  # calendars take a new .ics only with a higher SEQUENCE
        values["sequence"] = row["sequence"] + 1
    if event.spec.event.cancelled:
        if row["status"] == "cancelled":
            return [Change("update-event", None, "job file changed (the seminar stays cancelled)", values)]
        changes.append(Change("update-event", None, "seminar cancelled", values))
        changes += [
            Change("cancel-step", s["key"], "cancelled (the seminar is cancelled)", {"state": "cancelled"}, s["id"])
            for s in existing
            if s["state"] in PENDING and not _is_notice(s["key"])
        ]
        if notify and not any(s["key"] == CANCELLATION for s in existing):
            changes.append(_notice(CANCELLATION, "mail.cancellation", "the seminar is cancelled", now))
        return changes
    if moved:
        values["previous_start_at"], values["previous_end_at"] = row["start_at"], row["end_at"]
        message = f"seminar moved from {_show(event, row['start_at'])} to {_show(event, event.start_at)}"
    else:
        message = "job file changed"
    if row["status"] == "cancelled":
        message = f"seminar reinstated; {message}"
    changes.append(Change("update-event", None, message, values))
    if row["status"] == "cancelled":  # reinstated: its Zoom meeting was deleted, so make it (and the links) again
        for again in ("zoom.create", "registrants.sync"):
            old = next((x for x in existing if x["key"] == again and x["state"] == "done"), None)
            if old is not None and any(st.key == again for st in steps):
                changes.append(
                    Change(
                        "restore-step",
                        again,
                        "planned again (the seminar is back)",
                        {"state": "planned", "due_at": now, "retry_at": None},
                        old["id"],
                    )
                )
    if moved and notify and row["status"] != "cancelled":
        key = f"mail.change.{values['sequence']}"
        changes.append(_notice(key, "mail.change", "people already invited are told the new time", now))

    restored = {c.step_key for c in changes if c.action == "restore-step"}
    by_key = {s["key"]: s for s in existing if s["key"] not in restored}
    for step in steps:
        if step.key in restored:
            continue
        old = by_key.pop(step.key, None)
        new = _step_values(step, now)
        if old is None:
            changes.append(Change("add-step", step.key, f"added, due {_show(event, new['due_at'])}", new))
        elif old["state"] == "cancelled":
            changes.append(
                Change(
                    "restore-step",
                    step.key,
                    f"planned again, due {_show(event, new['due_at'])}",
                    {**new, "state": "planned"},
                    old["id"],
                )
            )
        elif old["state"] not in PENDING:
            if step.due_at is not None and old["due_at"] != step.due_at:
                changes.append(Change("keep-step", step.key, f"already {old['state']}; left as it is"))
        elif step.due_at is not None and old["due_at"] != step.due_at:
            changes.append(
                Change(
                    "move-step",
                    step.key,
                    f"moved from {_show(event, old['due_at'])} to {_show(event, step.due_at)}",
                    new,
                    old["id"],
                )
            )
        elif _differs(old, new):
            update = {k: new[k] for k in ("at_expr", "after_key", "params_json", "kind")}
            changes.append(Change("move-step", step.key, "updated", update, old["id"]))
    speakers = _speakers_changed(event, row, existing, now)
    if speakers is not None:
        changes.append(speakers)
    for old in by_key.values():
        if old["state"] in PENDING and not _is_notice(old["key"]):
            changes.append(
                Change(
                    "cancel-step",
                    old["key"],
                    "cancelled (no longer in the job file)",
                    {"state": "cancelled"},
                    old["id"],
                )
            )
    return changes


CANCELLATION = "mail.cancellation"
SPEAKER_REQUEST = "speakers.request"


def _speakers_changed(event: Event, row, existing: list, now: datetime) -> Change | None:
    """A speaker given an email, or taken out, after the request went: the request runs again before the
    seminar (the ledger keeps those who had it from a second one; on a webinar the panelists are added and
    removed to match)."""
    old = next((s for s in existing if s["key"] == SPEAKER_REQUEST and s["state"] in ("done", "failed")), None)
    if old is None or now >= event.start_at or not event.spec.speakers.enabled:
        return None
    stored = json.loads(row["spec_json"])["event"].get("speakers", [])
    before = {str(s["email"]).lower() for s in stored if s.get("email")}
    after = {s.email.lower() for s in event.spec.event.speakers if s.email}
    if before == after:
        return None
    added, removed = len(after - before), len(before - after)
    why = ", ".join(
        p for p in (f"{added} speaker(s) added" if added else "", f"{removed} taken out" if removed else "") if p
    )
    values = {"state": "planned", "due_at": now, "retry_at": None, "last_error": None}
    return Change("restore-step", SPEAKER_REQUEST, f"planned again, due now: {why}", values, old["id"])


def _is_notice(key: str) -> bool:
    """Change and cancellation notices come from what happened, not from the job file's plan."""
    return key == CANCELLATION or key.startswith("mail.change.")


def _was_invited(existing: list) -> bool:
    return any(s["kind"] == "mail.invitation" and s["state"] in ("done", "failed", "running") for s in existing)


def _notice(key: str, kind: str, why: str, now: datetime) -> Change:
    values = {"key": key, "kind": kind, "due_at": now, "at_expr": "on apply", "after_key": None, "params_json": "{}"}
    return Change("add-step", key, f"added, due now: {why}", values)


def _write(conn, event: Event, changes: list[Change], now: datetime) -> None:
    for change in changes:
        if change.action == "add-event":
            db.insert_event(conn, change.values, now)
        elif change.action == "update-event":
            db.update_event(conn, event.id, change.values, now)
        elif change.action == "add-step":
            db.insert_step(conn, event.id, change.values, now)
        elif change.action in ("move-step", "cancel-step", "restore-step"):
            db.update_step(conn, change.step_id, change.values, now)


def _note_files(conn, event: Event, now: datetime) -> list[Change]:
    """Remember the job file and its registrants CSV as applied (so that `run-due` sees later edits);
    a CSV that changed since then is synced again at the next run, while the seminar is ahead."""
    job = file_stat(event.path)
    if job is None:
        return []
    csv = event.path.parent / event.spec.registrants.csv if event.spec.registrants else None
    csv_stat = file_stat(csv) if csv is not None else None
    old = db.get_job_file(conn, str(event.path.resolve()))
    changes = []
    if (
        csv is not None  # always so when csv_stat is set; mypy cannot see it
        and csv_stat is not None
        and old is not None
        and old["csv_path"] == str(csv.resolve())
        and (old["csv_mtime_ns"], old["csv_size"]) != csv_stat
        and now < event.start_at
        and not event.spec.event.cancelled
        and db.replan_step(conn, event.id, "registrants.sync", now, "the registrants CSV changed")
    ):
        changes.append(Change("sync-again", "registrants.sync", "the registrants CSV changed: synced again now"))
    db.record_job_file(
        conn,
        {
            "path": str(event.path.resolve()),
            "event_id": event.id,
            "mtime_ns": job[0],
            "size": job[1],
            "csv_path": str(csv.resolve()) if csv is not None else None,
            "csv_mtime_ns": csv_stat[0] if csv_stat else None,
            "csv_size": csv_stat[1] if csv_stat else None,
        },
        now,
    )
    return changes


def file_stat(path: Path) -> tuple[int, int] | None:
    """(modification time in ns, size) of a file, None when it cannot be seen."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _calendar_changed(event: Event, row, moved: bool) -> bool:
    """Whether the seminar's .ics would read differently: its time, title, description, zone, or whether it
    is cancelled."""
    stored = json.loads(row["spec_json"]).get("event", {})
    return (
        moved
        or row["title"] != event.spec.event.title
        or row["timezone"] != event.spec.event.timezone
        or (stored.get("description") or "") != (event.spec.event.description or "")
        or (row["status"] == "cancelled") != event.spec.event.cancelled
    )


def _event_values(event: Event) -> dict:
    spec = event.spec.event
    return {
        "id": event.id,
        "series": spec.series,
        "title": spec.title,
        "start_at": event.start_at,
        "end_at": event.end_at,
        "timezone": spec.timezone,
        "language": spec.language,
        "source_path": str(event.path.resolve()),
        "spec_json": event.spec_json(),
        "spec_hash": event.spec_hash(),
        "status": "cancelled" if spec.cancelled else "active",
    }


def _step_values(step: Step, now: datetime) -> dict:
    return {
        "key": step.key,
        "kind": step.kind,
        "due_at": step.due_at or now,
        "at_expr": step.at,
        "after_key": step.after,
        "params_json": json.dumps(step.params, sort_keys=True),
        "retry_at": None,  # a moved or restored step starts afresh at its new time
    }


def _differs(old, new: dict) -> bool:
    return any(old[k] != new[k] for k in ("at_expr", "after_key", "params_json", "kind"))


def _show(event: Event, moment: datetime) -> str:
    local = moment.astimezone(event.tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

"""What the CLI shows: plain data for `--json`, and tables for people (rich, imported only when printing)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from opsflow.core.needs import first_unfinished

if TYPE_CHECKING:  # the data modules pull in pydantic; `status` needs none of them
    from opsflow.core.apply import ApplyResult
    from opsflow.core.jobspec import Event
    from opsflow.core.plan import PlanWarning, Step


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    """`2027-01-21 Thu 18:00 +09:00`: the local time with its offset, as the tables show it."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %a %H:%M} {offset[:3]}:{offset[3:]}"


def plan_data(planned: list[tuple[Event, list[Step]]], warnings: list[PlanWarning]) -> dict[str, Any]:
    return {
        "events": [
            {
                "id": event.id,
                "title": event.title,
                "path": str(event.path),
                "timezone": str(event.tz),
                "start_at": event.local(event.start_at).isoformat(),
                "end_at": event.local(event.end_at).isoformat(),
                "steps": [
                    {
                        "key": s.key,
                        "kind": s.kind,
                        "due_at": event.local(s.due_at).isoformat() if s.due_at else None,
                        "at": s.at,
                        "after": s.after,
                    }
                    for s in steps
                ],
            }
            for event, steps in planned
        ],
        "warnings": [{"event": w.event_id, "step": w.step_key, "message": w.message} for w in warnings],
    }


def status_data(
    events: list,
    steps: list,
    deliveries: dict[str, dict[str, int]] | None = None,
    *,
    others: Sequence = (),
    ambiguous: dict[str, int] | None = None,
    not_shown: int = 0,
) -> dict[str, Any]:
    """`status` for `--json` and for people: the seminars `events` with their `steps` and `deliveries`
    by state, and under `attention` every failed, missed or blocked step and every ambiguous delivery of
    those seminars and of `others` (seminars not shown that need attention: their steps are among `steps`,
    their ambiguous deliveries in `ambiguous`). `not_shown` counts the seminars left out."""
    counts = deliveries or {}
    by_event: dict[str, list] = {}
    for step in steps:
        by_event.setdefault(step["event_id"], []).append(step)
    out = []
    for event in events:
        tz = ZoneInfo(event["timezone"])
        out.append(
            {
                "id": event["id"],
                "title": event["title"],
                "status": event["status"],
                "deliveries": {
                    ("ambiguous" if k == "sending" else k): v for k, v in sorted(counts.get(event["id"], {}).items())
                },
                "timezone": event["timezone"],
                "start_at": event["start_at"].astimezone(tz).isoformat(),
                "end_at": event["end_at"].astimezone(tz).isoformat(),
                "steps": [
                    {
                        "key": s["key"],
                        "kind": s["kind"],
                        "state": s["state"],
                        "due_at": s["due_at"].astimezone(tz).isoformat(),
                        "attempts": s["attempts"],
                        "last_error": s["last_error"],
                    }
                    for s in by_event.get(event["id"], [])
                ],
            }
        )
    in_doubt = {**(ambiguous or {}), **{e["id"]: counts.get(e["id"], {}).get("sending", 0) for e in events}}
    flagged = sorted([*events, *others], key=lambda e: (e["start_at"], e["id"]))
    attention = [
        item for e in flagged for item in _attention(e["id"], by_event.get(e["id"], []), in_doubt.get(e["id"]))
    ]
    return {"attention": attention, "events": out, "not_shown": not_shown}


def _attention(event_id: str, steps: list, ambiguous: int | None) -> list[dict[str, str]]:
    """What needs a person in one seminar: failed and missed steps, steps blocked by a failed one, and
    deliveries that may or may not have gone out."""
    items = []
    rows = {s["key"]: s for s in steps}
    for step in steps:
        if step["state"] in ("failed", "missed"):
            items.append(
                {"event": event_id, "what": step["key"], "state": step["state"], "detail": step["last_error"] or ""}
            )
        before = first_unfinished(step, rows) if step["state"] == "planned" else None
        if before is not None and before["state"] == "failed":
            items.append(
                {
                    "event": event_id,
                    "what": step["key"],
                    "state": "blocked",
                    "detail": f"waits for {before['key']}, which failed",
                }
            )
    if ambiguous:
        items.append(
            {
                "event": event_id,
                "what": "deliveries",
                "state": "ambiguous",
                "detail": f"{ambiguous} may or may not have been delivered",
            }
        )
    return items


def apply_data(results: list[ApplyResult], dry_run: bool, zoom: list | None = None) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "zoom": [{"event": o.event_id, "action": o.action, "message": o.message} for o in zoom or []],
        "events": [
            {
                "id": r.event_id,
                "path": r.path,
                "changed": r.is_changed,
                "changes": [
                    {"action": c.action, "step": c.step_key, "message": c.message}
                    for c in r.changes
                    if c.action != "add-step" or c.message
                ],
            }
            for r in results
        ],
    }


def batch_data(report, dry_run: bool) -> dict[str, Any]:
    """One mail's batch (`opsflow.mail.ledger.BatchReport`) for `--json`: who got it, who would, what failed."""
    return {
        "event": report.event_id,
        "message": report.message_key,
        "dry_run": dry_run,
        "sent": report.sent,
        "would_send": report.would_send,
        "already_sent": report.already_sent,
        "deferred": [{"email": e, "error": m} for e, m in report.deferred],
        "failed": [{"email": e, "error": m} for e, m in report.failed],
        "failed_before": [{"email": e, "error": m} for e, m in report.failed_before],
        "ambiguous": report.ambiguous,
    }


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Off a terminal (pipes, cron, tests) keep lines long instead of wrapping at 80 columns.
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_plan(data: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    for event in data["events"]:
        tz = ZoneInfo(event["timezone"])
        start = datetime.fromisoformat(event["start_at"])
        end = datetime.fromisoformat(event["end_at"])
        out.print(f"[bold]{event['id']}[/bold]  {_escape(event['title'])}")
        out.print(f"  {local_text(start, tz)} - {end:%H:%M} ({event['timezone']})  {event['path']}")
        table = Table(show_edge=False, pad_edge=False, box=None)
        for column in ("step", "due (local)", "when"):
            table.add_column(column, no_wrap=True)
        for step in event["steps"]:
            due = local_text(datetime.fromisoformat(step["due_at"]), tz) if step["due_at"] else "on apply"
            table.add_row(step["key"], due, _escape(step["at"]))
        out.print(table)
        out.print()
    warn = console(stderr=True)
    for w in data["warnings"]:
        warn.print(f"Warning: {w['event']}: {w['step']} {_escape(w['message'])}")


def print_status(data: dict[str, Any]) -> None:
    """Plain aligned text: quick for a hundred seminars, and the same on a terminal and in a pipe."""
    lines: list[str] = []
    if not data["events"] and not data["not_shown"]:
        lines.append("No events yet: run `opsflow apply` to load the job files.")
    if data["attention"]:
        lines.append("Needs attention")
        lines += [f"  {i['event']}: {i['what']} {i['state']}: {i['detail']}" for i in data["attention"]]
        lines.append("")
    for event in data["events"]:
        tz = ZoneInfo(event["timezone"])
        start = datetime.fromisoformat(event["start_at"])
        lines.append(f"{event['id']}  {event['title']}  ({event['status']})")
        lines.append(f"  {local_text(start, tz)} ({event['timezone']})")
        rows = [
            (
                s["key"],
                s["state"],
                local_text(datetime.fromisoformat(s["due_at"]), tz),
                str(s["attempts"]),
                s["last_error"] or "",
            )
            for s in event["steps"]
        ]
        lines += aligned(("step", "state", "due (local)", "attempts", "last error"), rows)
        counts = event["deliveries"]
        if counts:
            lines.append("  deliveries: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
        if counts.get("ambiguous"):
            lines.append(
                f"  {counts['ambiguous']} ambiguous: a crash or a lost connection while sending; "
                f"see `opsflow deliveries {event['id']} --state ambiguous`"
            )
        lines.append("")
    if data["not_shown"]:
        more = data["not_shown"]
        lines.append(f"and {more} more seminar{'s' if more > 1 else ''}: opsflow status --all")
    sys.stdout.write("\n".join(lines) + "\n")


def aligned(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def print_apply(data: dict[str, Any]) -> None:
    out = console()
    prefix = "(dry run) " if data["dry_run"] else ""
    for event in data["events"]:
        if not event["changes"]:
            out.print(f"{event['id']}: unchanged")
            continue
        for change in event["changes"]:
            what = f"{change['step']}: " if change["step"] else ""
            out.print(f"{prefix}{event['id']}: {what}{_escape(change['message'])}")
    for outcome in data["zoom"]:
        out.print(f"{prefix}{outcome['event']}: zoom: {_escape(outcome['message'])}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)

"""`opsflow zoom ...`: create, show, update and delete a seminar's Zoom meeting."""

from __future__ import annotations

import json

import click

from opsflow.cli.common import dry_run_option as dry_run
from opsflow.cli.common import json_option, now

SHOWN = ("event_id", "kind", "state", "meeting_id", "uuid", "join_url", "passcode", "registration_url", "host")


def _print(outcome, as_json: bool) -> None:
    record = {k: outcome.record.get(k) for k in SHOWN} if outcome.record else None
    if as_json:
        click.echo(
            json.dumps(
                {"event": outcome.event_id, "action": outcome.action, "message": outcome.message, "meeting": record},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"{outcome.event_id}: {outcome.message}")
    if record:
        for key in SHOWN[1:]:
            if record[key] is not None:
                click.echo(f"  {key:<17}{record[key]}")


dry_run_option = dry_run("Show what would be sent to Zoom; call nothing.")


@click.group()
def zoom() -> None:
    """Create, show, update or delete a seminar's Zoom meeting.

    Needs OPSFLOW_ZOOM_ACCOUNT_ID, OPSFLOW_ZOOM_CLIENT_ID and OPSFLOW_ZOOM_CLIENT_SECRET
    (a Server-to-Server OAuth app). EVENT is the id of an applied seminar.

    \b
    Example:
        opsflow zoom create example-seminar
        opsflow zoom show example-seminar --json
    """


@zoom.command()
@click.argument("event")
@dry_run_option
@json_option
@click.pass_obj
def create(app, event: str, dry_run: bool, as_json: bool) -> None:
    """Create the seminar's meeting (or webinar) once; running it again changes nothing.

    After a crash or a timeout it finds the meeting it already made instead of making another.

    \b
    Example:
        opsflow zoom create example-seminar
        opsflow zoom create example-seminar --dry-run
    """
    from opsflow.zoom.meeting import create_meeting, meeting_body

    store = app.store()
    stored = app.stored_event(store, event)
    if dry_run:
        _print_body(stored, meeting_body(stored) if stored.spec.zoom else None, "create")
        return
    _print(create_meeting(store, app.zoom(), stored, now()), as_json)


@zoom.command()
@click.argument("event")
@click.option("--remote", is_flag=True, help="Also ask Zoom for the meeting as it is now.")
@json_option
@click.pass_obj
def show(app, event: str, remote: bool, as_json: bool) -> None:
    """Show the seminar's meeting as opsflow recorded it (id, join URL, passcode).

    \b
    Example:
        opsflow zoom show example-seminar
        opsflow zoom show example-seminar --remote --json
    """
    from opsflow.core.errors import NotFoundError
    from opsflow.zoom.meeting import MeetingOutcome, get_record

    store = app.store()
    app.stored_event(store, event)  # a clear error for an unknown event
    record = get_record(store, event)
    if record is None:
        raise NotFoundError(f"{event} has no Zoom meeting yet: run `opsflow zoom create {event}`")
    outcome = MeetingOutcome(record["state"], event, record, f"meeting {record['meeting_id']} ({record['state']})")
    if remote and record["meeting_id"]:
        live = app.zoom().get(record["kind"], record["meeting_id"])
        live.pop("start_url", None)  # the host's key to the meeting: never shown
        if as_json:
            click.echo(
                json.dumps(
                    {"event": event, "meeting": {k: record[k] for k in SHOWN}, "zoom": live},
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        _print(outcome, False)
        for key in ("topic", "start_time", "duration", "timezone", "status"):
            click.echo(f"  zoom.{key:<12}{live.get(key)}")
        return
    _print(outcome, as_json)


@zoom.command()
@click.argument("event")
@dry_run_option
@json_option
@click.pass_obj
def update(app, event: str, dry_run: bool, as_json: bool) -> None:
    """Send the applied title, time, duration and registration settings to Zoom.

    `opsflow apply` does this by itself when a job file changes; use this after a failure.

    \b
    Example:
        opsflow zoom update example-seminar
    """
    from opsflow.zoom.meeting import meeting_body, update_meeting

    store = app.store()
    stored = app.stored_event(store, event)
    if dry_run:
        _print_body(stored, meeting_body(stored) if stored.spec.zoom else None, "update")
        return
    _print(update_meeting(store, app.zoom(), stored, now()), as_json)


@zoom.command()
@click.argument("event")
@dry_run_option
@json_option
@click.pass_obj
def delete(app, event: str, dry_run: bool, as_json: bool) -> None:
    """Delete the seminar's meeting on Zoom. Zoom sends no notice; registrants are not emailed.

    \b
    Example:
        opsflow zoom delete example-seminar --dry-run
    """
    from opsflow.zoom.meeting import MeetingOutcome, delete_meeting, get_record

    store = app.store()
    app.stored_event(store, event)
    if dry_run:
        record = get_record(store, event)
        message = (
            f"would delete meeting {record['meeting_id']}"
            if record and record["state"] == "created"
            else "no Zoom meeting to delete"
        )
        _print(MeetingOutcome("delete", event, record, message), as_json)
        return
    _print(delete_meeting(store, app.zoom(), event, now()), as_json)


def _print_body(event, body, verb: str) -> None:
    from opsflow.core.errors import NotFoundError

    if body is None:
        raise NotFoundError(f"{event.id} has no [zoom] table in its job file: add one to create a meeting")
    click.echo(f"(dry run) would {verb} this {event.spec.zoom.kind} for host {event.spec.zoom.host!r}:")
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))

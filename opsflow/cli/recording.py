"""`opsflow recording ...`: fetch a seminar's cloud recording link from Zoom and show the stored one."""

from __future__ import annotations

import click

from opsflow.cli.common import dry_run_option, json_option, now, print_json

now_option = click.option("--now", "now_text", hidden=True, help="Pretend the time is this ISO datetime.")


@click.group()
def recording() -> None:
    """Fetch the share link of a seminar's Zoom cloud recording, or show the stored one.

    The link goes into the survey mail, the follow-up to absentees and the survey reminder. With
    `[recording]` in the job file the meeting is recorded to the cloud and the `recording.fetch` step
    does this by itself after the seminar.

    \b
    Example:
        opsflow recording fetch example-seminar
        opsflow recording show example-seminar --json
    """


@recording.command()
@click.argument("event")
@click.option("--force", is_flag=True, help="Ask Zoom again and replace the stored link.")
@dry_run_option("Ask Zoom and show the link that would be stored; store nothing.")
@json_option
@now_option
@click.pass_obj
def fetch(app, event: str, force: bool, dry_run: bool, as_json: bool, now_text: str | None) -> None:
    """Fetch the recording's share link from Zoom and store it (safe to run again).

    Once a link is stored Zoom is not asked again, unless --force. Exit code 1 while Zoom has no
    recording yet or is still processing it (about as long as the meeting).

    \b
    Example:
        opsflow recording fetch example-seminar
        opsflow recording fetch example-seminar --force --dry-run
    """
    from opsflow.after.recording import fetch_recording_link

    store = app.store()
    link = fetch_recording_link(
        store, app.zoom, app.stored_event(store, event), now(now_text), force=force, dry_run=dry_run
    )
    if as_json:
        print_json({**link.as_dict(), "dry_run": dry_run})
        return
    if link.action == "would-store":
        click.echo(f"(dry run) {event}: would store the recording of meeting {link.meeting_id}")
    elif link.action == "exists":
        click.echo(f"{event}: the recording's link is stored already (--force asks Zoom again)")
    else:
        click.echo(f"{event}: the recording of meeting {link.meeting_id} {link.action}")
    _print_link(app, store, event, link)


@recording.command()
@click.argument("event")
@json_option
@click.pass_obj
def show(app, event: str, as_json: bool) -> None:
    """Show the stored recording link and passcode, and the recording.fetch step.

    \b
    Example:
        opsflow recording show example-seminar
        opsflow recording show example-seminar --json | jq -r .url
    """
    from opsflow.after.recording import recording_step, stored_recording

    store = app.store()
    stored = app.stored_event(store, event)
    link = stored_recording(store, stored.id)
    step = recording_step(store, stored.id)
    if as_json:
        print_json({**link.as_dict(), "step": step})
        return
    if link.action == "none":
        click.echo(f"{event}: no recording link stored yet")
    else:
        click.echo(f"{event}: the recording of meeting {link.meeting_id}")
    _print_link(app, store, event, link)
    if step is not None:
        why = f" ({step['last_error']})" if step["last_error"] else ""
        click.echo(f"  {'step':<11}recording.fetch {step['state']}{why}")
    elif link.action == "none":
        click.echo(f"  no [recording] in the job file: fetch it by hand with `opsflow recording fetch {event}`")


def _print_link(app, store, event: str, link) -> None:
    if link.url:
        click.echo(f"  {'url':<11}{link.url}")
    if link.passcode:
        click.echo(f"  {'passcode':<11}{link.passcode}")
    if link.fetched_at:
        local = app.stored_event(store, event).local(link.fetched_at)
        click.echo(f"  {'fetched':<11}{local:%Y-%m-%d %H:%M} {local.tzname()}")
    for f in link.files:
        click.echo(f"  {'file':<11}{f['file_type']} {f['recording_type']} ({f['size']:,} bytes)")

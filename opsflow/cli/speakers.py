"""`opsflow speakers`: each speaker of a seminar, their email, their panelist link on a webinar, their mails."""

from __future__ import annotations

import click

from opsflow.cli.common import json_option, print_json


@click.command()
@click.argument("event")
@json_option
@click.pass_obj
def speakers(app, event: str, as_json: bool) -> None:
    """List the seminar's speakers: email, which of their mails went, and for a webinar whether they are
    a panelist and their own link (read from Zoom). Changes nothing.

    A speaker without an email gets no mails. Send a speaker mail by hand with `opsflow send EVENT
    speakers.request` (or speakers.rehearsal, speakers.materials, speakers.thanks).

    \b
    Example:
        opsflow speakers publitech-2027-01
        opsflow speakers publitech-2027-01 --json
    """
    from opsflow.mail.speakers import speaker_rows

    store = app.store()
    stored = app.stored_event(store, event)
    data = speaker_rows(store, stored, make_zoom=app.zoom)
    if as_json:
        print_json(data)
        return
    if not data["speakers"]:
        click.echo(f"{event}: no speakers in the job file")
        return
    for row in data["speakers"]:
        click.echo(f"{row['number']}. {row['name']}" + (f" ({row['affiliation']})" if row["affiliation"] else ""))
        click.echo(f"   email:    {row['email'] or '- (gets no mails: add email = ... to its [[event.speakers]])'}")
        if data["webinar"]:
            if row["panelist"] is None:
                state = "unknown"
            else:
                state = row["panelist_link"] if row["panelist"] else "not a panelist yet"
            click.echo(f"   panelist: {state}")
        if row["email"]:
            went = ", ".join(f"{key.removeprefix('speakers.')} {state}" for key, state in sorted(row["mails"].items()))
            click.echo(f"   mails:    {went or 'none yet'}")
    for email in data["no_longer_speakers"]:
        click.echo(f"{email}: had a speaker mail but is no longer a speaker with an email in the job file")
    if data["panelists_error"]:
        click.echo(f"(panelists not shown: {data['panelists_error']})")

"""`opsflow registrants ...`: import the registration CSV, list, add, cancel, sync with Zoom, purge."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import click

from opsflow.cli.common import STDOUT, RolledBack, check_one_stdout, csv_option, json_option, now, print_json, write_csv
from opsflow.cli.common import dry_run_option as dry_run

SHOWN_ADDED = 20  # list each added person up to this many; beyond, a count
LIST_COLUMNS = ("email", "name", "organization", "department", "status", "source", "join_link", "language")


dry_run_option = dry_run("Show what would change; change nothing.")


@click.group()
def registrants() -> None:
    """Import, list, add, cancel and purge the people registered for a seminar.

    \b
    Example:
        opsflow registrants import example-seminar
        opsflow registrants list example-seminar --csv registrants.csv
    """


@registrants.command("import")
@click.argument("event")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@dry_run_option
@json_option
@click.pass_obj
def import_(app, event: str, file: Path | None, dry_run: bool, as_json: bool) -> None:
    """Import the registration form's CSV (default: the job file's `[registrants] csv`).

    UTF-8 (with or without BOM) and CP932 (Shift_JIS) are recognised. Importing again adds new
    people, updates changed ones, and cancels people no longer in the file. Rows that cannot be
    used are reported with their row number and skipped.

    \b
    Example:
        opsflow registrants import example-seminar
        opsflow registrants import example-seminar ~/Downloads/form.csv --dry-run
    """
    from opsflow.registrants import import_people, read_event_csv

    store = app.store()
    stored = app.stored_event(store, event)
    read = read_event_csv(stored, file)
    if not read.people:
        raise _nobody(read)
    report = import_people(store, event, read, now(), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(_report_data(report, len(read.people)), ensure_ascii=False, indent=2))
        return
    _print_report(report, len(read.people))


@registrants.command("list")
@click.argument("event")
@json_option
@csv_option("Write the list as CSV to this file (UTF-8 with BOM, opens in Excel).")
@click.pass_obj
def list_(app, event: str, as_json: bool, csv_path: str | None) -> None:
    """List everyone registered, active and cancelled, with the join link each one gets and the
    language they are mailed in (their own from the CSV or Zoom's form, else the seminar's).

    \b
    Example:
        opsflow registrants list example-seminar
        opsflow registrants list example-seminar --csv registrants.csv
        opsflow registrants list example-seminar --json | jq '.[] | select(.status == "active") | .email'
    """
    from opsflow.registrants.roster import list_people

    check_one_stdout(csv_path, as_json)
    store = app.store()
    people = list_people(store, event)
    if people:  # the seminar's language for those who chose none
        seminar = app.stored_event(store, event).spec.event.language
        people = [{**p, "chosen_language": p["language"], "language": p["language"] or seminar} for p in people]
    if csv_path is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(LIST_COLUMNS)
        writer.writerows([[p[k] or "" for k in LIST_COLUMNS] for p in people])
        write_csv(csv_path, buffer.getvalue().encode("utf-8-sig"))
        if csv_path != STDOUT and not as_json:
            click.echo(f"{event}: {len(people)} people written to {csv_path}")
    if as_json:
        shown = [
            {
                k: p[k]
                for k in (
                    *LIST_COLUMNS,
                    "family_name",
                    "given_name",
                    "fields",
                    "cancel_reason",
                    "zoom_registrant_id",
                    "chosen_language",
                )
            }
            for p in people
        ]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    elif csv_path is None:
        _print_people(people)


@registrants.command()
@click.argument("event")
@click.argument("email")
@click.option("--name", required=True, help="Full name, family name first: '山田 太郎'.")
@click.option("--organization", default="", help="Municipality or organisation.")
@click.option("--department", default="", help="Department.")
@click.option(
    "--language",
    default=None,
    metavar="LANG",
    help="Mail them in ja or en (日本語, 英語, Japanese, English too); default: the seminar's language.",
)
@dry_run_option
@json_option
@click.pass_obj
def add(
    app,
    event: str,
    email: str,
    name: str,
    organization: str,
    department: str,
    language: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Register one person by hand (kept when the CSV is imported again).

    Someone new after the invitation went out gets it at the next run.

    \b
    Example:
        opsflow registrants add example-seminar k-sato@city.example.lg.jp --name '佐藤 健' --organization 加賀市
        opsflow registrants add example-seminar k-sato@city.example.lg.jp --name '佐藤 健' --dry-run
        opsflow registrants add example-seminar j-smith@city.example.jp --name 'John Smith' --language en
    """
    from opsflow.registrants.roster import add_person

    _change_person(
        app,
        event,
        email,
        dry_run,
        as_json,
        "active",
        lambda store: add_person(
            store, event, email, name, now(), organization=organization, department=department, language=language
        ),
    )


@registrants.command()
@click.argument("event")
@click.argument("email")
@dry_run_option
@json_option
@click.pass_obj
def cancel(app, event: str, email: str, dry_run: bool, as_json: bool) -> None:
    """Cancel one person: no further mail; their Zoom registration is cancelled at the next sync.

    \b
    Example:
        opsflow registrants cancel example-seminar t-yamada@city.kaga.lg.jp
        opsflow registrants cancel example-seminar t-yamada@city.kaga.lg.jp --dry-run --json
    """
    from opsflow.registrants.roster import cancel_person

    _change_person(
        app, event, email, dry_run, as_json, "cancelled", lambda store: cancel_person(store, event, email, now())
    )


def _change_person(app, event: str, email: str, dry_run: bool, as_json: bool, status: str, change) -> None:
    """Run `change(store)` (add or cancel one person), on a store that keeps nothing for a dry run,
    and say what it did or would do."""
    from opsflow import store as db
    from opsflow.registrants.csvfile import normalise_email

    store = app.store()
    address = normalise_email(email) or email.strip().lower()
    with store.read() as conn:
        row = db.get_registrant(conn, event, address)
    message = change(RolledBack(store) if dry_run else store)
    if as_json:
        print_json(
            {
                "event": event,
                "email": address,
                "dry_run": dry_run,
                "previous_status": row["status"] if row is not None else None,
                "status": status,
                "message": message,
            }
        )
        return
    click.echo(f"(dry run, nothing changed) {message}" if dry_run else message)


@registrants.command()
@click.argument("event")
@json_option
@click.pass_obj
def sync(app, event: str, as_json: bool) -> None:
    """Run the `registrants.sync` step now: import the CSV, then register people with Zoom.

    With `[zoom] registration = true`, everyone active gets a personal join link (30 a call),
    cancelled people are cancelled on Zoom, and people who registered on Zoom's own page are
    added. Needs the meeting (`opsflow zoom create`) and the Zoom settings.

    \b
    Example:
        opsflow registrants sync example-seminar
    """
    from opsflow.registrants import sync_registrants

    store = app.store()
    stored = app.stored_event(store, event)
    imported, synced = sync_registrants(store, app.zoom, stored, now())
    if as_json:
        data = {"import": _report_data(imported, None) if imported else None, "zoom": vars(synced) if synced else None}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if imported:
        _print_report(imported, None)
    if synced:
        click.echo(
            f"{event}: zoom: {synced.registered} registered, {synced.cancelled} cancelled, "
            f"{len(synced.pulled)} added from Zoom's registration page"
        )
        for host in synced.skipped_hosts:
            click.echo(f"  {host}: not registered (a host of the meeting)")
        for warning in synced.warnings:
            click.echo(f"Warning: {warning}", err=True)


@registrants.command()
@click.argument("event")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="DAYS",
    help="Purge only when the seminar ended at least this long ago, e.g. 180d.",
)
@dry_run_option
@json_option
@click.pass_obj
def purge(app, event: str, older_than: str, dry_run: bool, as_json: bool) -> None:
    """Remove the personal data of a past seminar's registrants; the counts are kept.

    Names, emails, departments, form answers and join links are removed from registrants,
    attendance and deliveries; organizations and every count stay for the series statistics.

    \b
    Example:
        opsflow registrants purge example-seminar --older-than 180d --dry-run
    """
    from opsflow.registrants.roster import purge as purge_event

    match = re.fullmatch(r"\s*(\d{1,5})\s*d\s*", older_than)
    if not match:
        raise click.BadParameter(f"{older_than!r}: give a number of days, e.g. 180d", param_hint="--older-than")
    message = purge_event(app.store(), event, timedelta(days=int(match.group(1))), now(), dry_run=dry_run)
    if as_json:
        print_json({"event": event, "dry_run": dry_run, "message": message})
        return
    click.echo(message)


def _report_data(report, in_file: int | None) -> dict:
    return {
        "event": report.event_id,
        "file": report.source,
        "encoding": report.encoding,
        "dry_run": report.dry_run,
        "people_in_file": in_file,
        "added": report.added,
        "updated": [{"email": e, "changed": c} for e, c in report.updated],
        "cancelled": report.cancelled,
        "reactivated": report.reactivated,
        "kept_cancelled": report.kept_cancelled,
        "unchanged": report.unchanged,
        "problems": [{"row": p.row, "reason": p.reason} for p in report.problems],
        "duplicates": [{"email": d.email, "rows": list(d.rows)} for d in report.duplicates],
        "blank_rows": report.blank_rows,
    }


def _print_report(report, in_file: int | None) -> None:
    prefix = "(dry run) " if report.dry_run else ""
    counts = [f"{len(report.added)} added", f"{len(report.updated)} updated", f"{len(report.cancelled)} cancelled"]
    if report.reactivated:
        counts.append(f"{len(report.reactivated)} back")
    counts.append(f"{report.unchanged} unchanged")
    people = f"{in_file} people, " if in_file is not None else ""
    source = _shown(report.source)
    click.echo(f"{prefix}{report.event_id}: {source} ({people}{report.encoding}): {', '.join(counts)}")
    if not report.is_changed:
        click.echo(f"{prefix}{report.event_id}: no change")
    if len(report.added) <= SHOWN_ADDED:
        for email in report.added:
            click.echo(f"  added      {email}")
    for email, changed in report.updated:
        click.echo(f"  updated    {email} ({', '.join(c.removesuffix('_json') for c in changed)})")
    for email in report.cancelled:
        click.echo(f"  cancelled  {email} (no longer in the file)")
    for email in report.reactivated:
        click.echo(f"  back       {email} (in the file again)")
    for email in report.kept_cancelled:
        click.echo(f"  kept cancelled {email} (cancelled by hand; use `opsflow registrants add` to undo)")
    for dup in report.duplicates:
        rows = ", ".join(str(r) for r in dup.rows)
        click.echo(f"  rows {rows}: the same person ({dup.email}); kept row {dup.rows[-1]}")
    if report.blank_rows:
        click.echo(f"  {report.blank_rows} blank rows skipped")
    for problem in report.problems:
        click.echo(f"Warning: {source} row {problem.row}: {problem.reason}; row skipped", err=True)


def _nobody(read) -> Exception:
    """The error for a file with no usable person in it: most likely the wrong file, so nothing changes."""
    from opsflow.core.errors import InputError

    shown = _shown(str(read.path))
    if not read.problems:
        return InputError(
            f"{shown}:{read.header_row}: nobody to import: no rows under the header; nothing was "
            "changed. Check that it is the form's export with its answers"
        )
    listed = "; ".join(f"row {p.row}: {p.reason}" for p in read.problems[:5])
    more = f"; and {len(read.problems) - 5} more" if len(read.problems) > 5 else ""
    return InputError(f"{shown}: nobody to import, no row is usable ({listed}{more}); nothing was changed")


def _shown(path: str) -> str:
    """A path relative to the working folder when it is inside it, as people typed it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _print_people(people: list[dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from opsflow.cli.views import console

    out = console()
    if not people:
        out.print("No registrants yet: run `opsflow registrants import EVENT`.")
        return
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("email", "name", "organization", "status", "source", "zoom link", "lang"):
        table.add_column(column, no_wrap=True)
    for p in people:
        link = "personal" if p["join_url"] else ("meeting" if p["join_link"] else "-")
        values = (p["email"], p["name"], p["organization"], p["status"], p["source"], link, p["language"])
        table.add_row(*(escape(v) for v in values))
    out.print(table)
    active = sum(p["status"] == "active" for p in people)
    out.print(f"{active} active, {len(people) - active} cancelled")

"""After the seminar: `opsflow report ...`, `opsflow survey import`, `opsflow summary`, `opsflow series`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from opsflow.cli.common import (
    STDOUT,
    check_one_stdout,
    csv_option,
    dry_run_option,
    json_option,
    now,
    print_json,
    write_csv,
)


@click.group()
def report() -> None:
    """Fetch the attendance report from Zoom, show it, export it, draft the event report.

    \b
    Example:
        opsflow report fetch example-seminar
        opsflow report show example-seminar
    """


@report.command()
@click.argument("event")
@json_option
@click.pass_obj
def fetch(app, event: str, as_json: bool) -> None:
    """Fetch Zoom's participant report and compute attendance per person (safe to run again).

    Zoom needs up to 30 minutes after the end; before that this says the report is not ready.

    \b
    Example:
        opsflow report fetch example-seminar
    """
    from opsflow.after.report import fetch_report

    store = app.store()
    result = fetch_report(store, app.zoom(), app.stored_event(store, event), now())
    if as_json:
        click.echo(json.dumps(vars(result), ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{event}: {result.rows} rows from Zoom's {result.source.replace('_', ' ')}: {result.people} people, "
        f"{result.attendees} attended"
    )


@report.command()
@click.argument("event")
@json_option
@click.pass_obj
def show(app, event: str, as_json: bool) -> None:
    """Show attendance: figures, organizations, and every person with their minutes.

    \b
    Example:
        opsflow report show example-seminar --json
    """
    from opsflow.after.report import percent, report_summary

    store = app.store()
    app.stored_event(store, event)  # a clear error for an unknown event
    numbers = report_summary(store, event)
    people = numbers.pop("people")
    if as_json:
        numbers["people"] = [
            {
                "name": p["name"],
                "email": p["email"],
                "organization": p["organization"],
                "minutes": p["total_minutes"],
                "attended": p["is_attended"],
                "matched_by": p["matched_by"],
            }
            for p in people
        ]
        click.echo(json.dumps(numbers, ensure_ascii=False, indent=2, default=str))
        return
    rate = percent(numbers["attended_registrants"], numbers["registrations"])
    click.echo(
        f"{event}: {numbers['attended_registrants']} of {numbers['registrations']} registered attended"
        f" ({rate}), and {numbers['guests']} guests; "
        f"average {_minutes(numbers['average_minutes'])}, median {_minutes(numbers['median_minutes'])} min"
    )
    for org in numbers["by_organization"]:
        click.echo(f"  {org['name']}: {org['attended']}/{org['registered']}")
    for p in people:
        who = p["email"] or "(guest, no email)"
        mark = "attended" if p["is_attended"] else "-"
        click.echo(f"  {p['total_minutes']:>4} min  {mark:<8}  {p['name']}  {who}")


@report.command()
@click.argument("event")
@csv_option("Write the attendance to this file (UTF-8 with BOM: opens in Excel).", required=True)
@click.pass_obj
def export(app, event: str, csv_path: str) -> None:
    """Write the attendance per person as CSV for Excel.

    \b
    Example:
        opsflow report export example-seminar --csv attendance.csv
        opsflow report export example-seminar --csv - | head
    """
    from opsflow.after.report import attendance_csv, attendance_of

    store = app.store()
    stored = app.stored_event(store, event)
    people = attendance_of(store, event)
    write_csv(csv_path, attendance_csv(people, stored.tz))
    if csv_path != STDOUT:
        click.echo(f"{event}: {len(people)} people written to {csv_path}")


@report.command()
@click.argument("event")
@click.option("--output", type=click.Path(path_type=Path), help="Write the Markdown here instead of printing it.")
@click.pass_obj
def draft(app, event: str, output: Path | None) -> None:
    """Draft the public event report (開催報告) in Markdown for staff to edit.

    \b
    Example:
        opsflow report draft example-seminar --output report.md
    """
    from opsflow.after.report import report_draft
    from opsflow.after.summary import survey_numbers

    store = app.store()
    stored = app.stored_event(store, event)
    survey = survey_numbers(store, stored, set())
    text = report_draft(store, stored, survey["comments"] if survey else [])
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{event}: draft written to {output}")


@click.group()
def survey() -> None:
    """Import the questionnaire's answers (the form's CSV export).

    \b
    Example:
        opsflow survey import example-seminar answers.csv
    """


@survey.command("import")
@click.argument("event")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--encoding", help="Force the file's encoding (default: UTF-8 or CP932, detected).")
@json_option
@click.pass_obj
def import_(app, event: str, file: Path, encoding: str | None, as_json: bool) -> None:
    """Import survey answers, matched to people by the token in their link, else by email.

    The export replaces an earlier import; the survey reminder then goes only to attendees who
    have not answered.

    \b
    Example:
        opsflow survey import example-seminar ~/Downloads/answers.csv
    """
    from opsflow.after.survey import import_responses

    store = app.store()
    result = import_responses(store, app.stored_event(store, event), file, now(), encoding=encoding)
    if as_json:
        click.echo(json.dumps({**vars(result), "rate": result.rate_text}, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{event}: {result.matched} answers matched ({result.by_token} by token, {result.by_email} by email); "
        f"response rate among attendees {result.rate_text}"
    )
    for row in result.duplicates:
        click.echo(f"  row {row}: replaced by a later answer of the same person")
    for row in result.unmatched:
        click.echo(f"Warning: {file} row {row}: nobody matches this answer; kept as anonymous", err=True)


@click.command()
@click.argument("event")
@click.option("--send", "do_send", is_flag=True, help="Email it to the staff list now.")
@dry_run_option("With --send: list who would get it; send and record nothing.")
@click.option("--preview", "fmt", flag_value="text", default=True, help="Print the text part (the default).")
@click.option("--html", "fmt", flag_value="html", help="Print the HTML part.")
@json_option
@click.pass_obj
def summary(app, event: str, do_send: bool, dry_run: bool, fmt: str, as_json: bool) -> None:
    """The staff summary: attendance, organizations, deliveries, survey, with a chart and the CSV.

    `--json` prints its figures (or, with `--send`, who got it). Each address on the staff list gets
    it once; `--send` again sends to nobody. With OPSFLOW_STAFF_WEBHOOK_URL set, `--send` also posts
    its figures to the staff chat, once.

    \b
    Example:
        opsflow summary example-seminar
        opsflow summary example-seminar --send --dry-run
        opsflow summary example-seminar --send
    """
    from opsflow.mail.send import preview_message, send_mail

    store = app.store()
    stored = app.stored_event(store, event)
    if do_send:
        from opsflow.after.staff_chat import post_summary
        from opsflow.cli.views import batch_data

        at = now()
        result = send_mail(store, app.settings, stored, "summary", at, sync=False, dry_run=dry_run)
        # the staff chat too, when set: once (a post that failed before is tried again)
        posted = post_summary(store, app.settings, stored, "summary.staff", at, dry_run=dry_run, retry_failed=True)
        if as_json:
            print_json({**batch_data(result, dry_run), "chat": posted.as_dict()})
        elif dry_run:
            click.echo(
                f"(dry run) {event}: summary would go to {len(result.would_send)} "
                f"({result.already_sent} had it already)"
            )
            for email in result.would_send:
                click.echo(f"  {email}")
        else:
            click.echo(f"{event}: summary sent to {len(result.sent)} ({result.already_sent} had it already)")
        if posted.outcome != "off" and not as_json:
            click.echo(f"{event}: {posted.line()}", err=posted.has_failed)
        if (result.has_failures or posted.has_failed) and not dry_run:
            raise SystemExit(1)
        return
    if as_json:
        from opsflow.after.summary import staff_summary

        figures, attachments = staff_summary(store, stored)
        figures.pop("chart_cid", None)  # a detail of the mail's HTML
        to = list(stored.spec.summary.to) if stored.spec.summary is not None else []
        print_json({"event": event, "to": to, "summary": figures, "attachments": [a.filename for a in attachments]})
        return
    message = preview_message(store, app.settings, stored, "summary", now())
    part = message.get_body(preferencelist=("plain",) if fmt == "text" else ("html",))
    assert part is not None  # build_message always writes a text and an HTML part
    if fmt == "text":
        click.echo(f"Subject: {message['Subject']}\n")
    click.echo(part.get_content(), nl=False)


@click.command()
@click.argument("name")
@csv_option("Also write the table as CSV to this file (UTF-8 with BOM).")
@json_option
@click.pass_obj
def series(app, name: str, csv_path: str | None, as_json: bool) -> None:
    """A series at a glance: per seminar registrations, attendance and survey; repeat attendees.

    NAME is the `series` of the job files.

    \b
    Example:
        opsflow series publitech-seminar --csv series.csv
        opsflow series publitech-seminar --json
    """
    from opsflow.after.series import series_report

    check_one_stdout(csv_path, as_json)
    result = series_report(app.store(), name)
    columns = ("id", "start_at", "registrations", "attendees", "attendance_rate", "survey_responses", "survey_rate")
    if csv_path is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([[s[c] for c in columns] for s in result.seminars])
        write_csv(csv_path, buffer.getvalue().encode("utf-8-sig"))
        if csv_path == STDOUT:
            return
    if as_json:
        click.echo(json.dumps(vars(result), ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{name}: {len(result.seminars)} seminars, {result.repeat_attendees} repeat attendees, "
        f"{len(result.organizations)} organizations reached"
    )
    for s in result.seminars:
        click.echo(
            f"  {s['start_at'][:10]}  {s['id']}: {s['attendees']}/{s['registrations']} attended "
            f"({s['attendance_rate']}), survey {s['survey_responses']} ({s['survey_rate']})"
        )


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"

"""`opsflow send`, `opsflow preview` and `opsflow deliveries`: mail by hand, and the delivery ledger."""

from __future__ import annotations

import json
import sys

import click

from opsflow.cli.common import now, print_json
from opsflow.core.errors import OpsflowError

DELIVERY_STATES = ("pending", "sending", "sent", "deferred", "failed", "cancelled")


@click.command()
@click.argument("event")
@click.argument("kind")
@click.option("--to", "to", metavar="EMAIL", help="Send to this registrant only (the step's state is left alone).")
@click.option("--dry-run", is_flag=True, help="List who would get the message; send and record nothing.")
@click.option("--resend", is_flag=True, help="Send again to people who already had it (or failed).")
@click.option("--no-sync", is_flag=True, help="Do not import the registrants CSV again first.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def send(app, event: str, kind: str, to: str | None, dry_run: bool, resend: bool, no_sync: bool, as_json: bool) -> None:
    """Send one of the seminar's mails now, to everyone who has not had it.

    KIND is invitation, confirmation (受付完了, to people new since it was planned and not yet
    invited), reminder, change, cancellation, survey (the survey to attendees and the
    follow-up to those who did not attend), survey_reminder, summary, or a step key such as
    mail.reminder.1d; the speakers' mails are speakers.request, speakers.rehearsal,
    speakers.materials and speakers.thanks. Each person gets one message, never two: the ledger
    remembers who had what.
    Exit code 1 when a recipient failed or a delivery is ambiguous (see `opsflow deliveries`).

    \b
    Example:
        opsflow send example-seminar invitation --dry-run
        opsflow send example-seminar mail.reminder.1d
        opsflow send example-seminar invitation --to t-yamada@city.kaga.lg.jp --resend
        opsflow send publitech-2027-01 speakers.request --dry-run
    """
    from opsflow.mail.ledger import BatchStopped
    from opsflow.mail.send import send_mail

    store = app.store()
    stored = app.stored_event(store, event)
    from opsflow.mail.speakers import speaker_step

    if speaker_step(kind) is not None:  # a speaker mail ([speakers]): its own module, its own recipients
        _send_speakers(app, store, stored, kind, to=to, resend=resend, dry_run=dry_run, as_json=as_json)
        return
    try:
        if kind in ("survey", "survey.send"):  # two messages: the survey to attendees, the follow-up to the others
            from opsflow.after.survey import send_survey  # (with requests, for the answers: only when needed)

            reports = send_survey(store, app.settings, stored, now(), dry_run=dry_run, to=to, resend=resend)
        else:
            with _progress(as_json or dry_run) as progress:
                reports = [
                    send_mail(
                        store,
                        app.settings,
                        stored,
                        kind,
                        now(),
                        to=to,
                        resend=resend,
                        dry_run=dry_run,
                        make_zoom=app.zoom,
                        sync=not no_sync,
                        progress=progress,
                    )
                ]
    except BatchStopped as exc:  # what was done before the mail server broke off, then the error
        if not as_json:
            _print_report(event, exc.report, dry_run)
        raise
    from opsflow.cli.views import batch_data

    data = [batch_data(r, dry_run) for r in reports]
    if as_json:
        click.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
    for report in [] if as_json else reports:
        _print_report(event, report, dry_run)
    if any(r.has_failures for r in reports) and not dry_run:
        sys.exit(1)


def _send_speakers(app, store, event, kind: str, *, to, resend: bool, dry_run: bool, as_json: bool) -> None:
    """`opsflow send EVENT speakers.request` (and the other speaker mails): the batch, and what the
    speakers are on a webinar."""
    from opsflow.cli.views import batch_data
    from opsflow.mail.ledger import BatchStopped
    from opsflow.mail.speakers import send_speakers

    try:
        with _progress(as_json or dry_run) as progress:
            done = send_speakers(
                store,
                app.settings,
                event,
                kind,
                now(),
                to=to,
                resend=resend,
                dry_run=dry_run,
                make_zoom=app.zoom,
                progress=progress,
            )
    except BatchStopped as exc:
        if not as_json:
            _print_report(event.id, exc.report, dry_run)
        raise
    if as_json:
        data = batch_data(done.report, dry_run)
        data["panelists"] = done.panelists.as_dict() if done.panelists is not None else None
        print_json(data)
    else:
        if done.panelists is not None:
            click.echo(f"{event.id}: webinar {done.panelists.webinar_id}: {done.panelists.text()}")
        _print_report(event.id, done.report, dry_run)
    if done.report.has_failures and not dry_run:
        sys.exit(1)


def _print_report(event: str, report, dry_run: bool) -> None:
    if dry_run:
        click.echo(
            f"(dry run) {event}: {report.message_key} would go to {len(report.would_send)} people "
            f"({report.already_sent} already had it)"
        )
        for email in report.would_send:
            click.echo(f"  {email}")
    else:
        click.echo(
            f"{event}: {report.message_key}: {len(report.sent)} sent, {report.already_sent} had it already, "
            f"{len(report.deferred)} deferred, {len(report.failed)} failed, {len(report.ambiguous)} ambiguous"
        )
        for email, error in report.deferred:
            click.echo(f"  deferred   {email}: {error} (retried later)")
        for email, error in report.failed:
            click.echo(f"  failed     {email}: {error}")
        for email, error in report.failed_before:
            click.echo(
                f"  failed     {email}: {error} (refused in an earlier run: correct the address with "
                "`opsflow registrants cancel` and `add`, or try again with `--to EMAIL --resend`)"
            )
        for email in report.ambiguous:
            click.echo(
                f"  ambiguous  {email}: may or may not have been delivered; see "
                f"`opsflow deliveries resolve {event} --to {email}`"
            )


def progress_columns() -> tuple:
    """What the bar shows: `sending ━━━━━━╺━━━━━━━  30% 150/500 0:00:42` (the count beside the percentage)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn

    return (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


class _progress:
    """A progress bar on a terminal (or on `console`); nothing elsewhere (cron gets the one summary line)."""

    def __init__(self, quiet: bool, console=None) -> None:
        self.console = console
        self.is_shown = not quiet and (console is not None or sys.stderr.isatty())

    def __enter__(self):
        if not self.is_shown:
            return None
        from rich.progress import Progress

        self.bar = Progress(*progress_columns(), console=self.console, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("sending", total=None)
        return lambda done, total: self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.is_shown:
            self.bar.stop()


@click.command()
@click.argument("event")
@click.argument("kind")
@click.option("--to", "to", metavar="EMAIL", help="Render it for this registrant (default: the first one).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "eml"]),
    default="text",
    show_default=True,
    help="The plain-text part, the HTML part, or the whole message as sent.",
)
@click.pass_obj
def preview(app, event: str, kind: str, to: str | None, fmt: str) -> None:
    """Show a mail as one recipient would get it, in their language; nothing is sent or recorded.

    \b
    Example:
        opsflow preview example-seminar invitation
        opsflow preview example-seminar mail.reminder.1h --format eml > reminder.eml
        opsflow preview publitech-2027-01 speakers.thanks
    """
    from opsflow.mail.send import preview_in_language
    from opsflow.mail.speakers import preview_speaker, speaker_step

    store = app.store()
    stored = app.stored_event(store, event)
    if speaker_step(kind) is not None:  # a speaker's mail, in the seminar's language (the first speaker by default)
        message, language = preview_speaker(store, app.settings, stored, kind, now(), to, app.zoom)
    else:
        message, language = preview_in_language(store, app.settings, stored, kind, now(), to)
    if fmt == "eml":
        click.echo(message.as_bytes(), nl=False)
        return
    part = message.get_body(preferencelist=("plain",) if fmt == "text" else ("html",))
    assert part is not None  # build_message always writes a text and an HTML part
    if fmt == "text":
        click.echo(f"Subject: {message['Subject']}\nTo: {message['To']}\nLanguage: {language}\n")
    click.echo(part.get_content(), nl=False)


class _DefaultToList(click.Group):
    """`opsflow deliveries EVENT` lists; `opsflow deliveries resolve EVENT` resolves."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToList)
def deliveries() -> None:
    """The delivery ledger: who got which message, and what failed.

    \b
    Example:
        opsflow deliveries example-seminar --state failed
        opsflow deliveries resolve example-seminar --as-sent --to t-yamada@city.kaga.lg.jp
    """


@deliveries.command("list")
@click.argument("event")
@click.option("--state", type=click.Choice([*DELIVERY_STATES, "ambiguous"]), help="Only this state.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def list_(app, event: str, state: str | None, as_json: bool) -> None:
    """List deliveries (`ambiguous` = still `sending` after a crash or a lost connection).

    \b
    Example:
        opsflow deliveries list example-seminar --json
    """
    from opsflow import store as db

    store = app.store()
    app.stored_event(store, event)
    with store.read() as conn:
        rows = db.list_deliveries(conn, event, state="sending" if state == "ambiguous" else state)
    shown = [
        {
            "message": r["message_key"],
            "recipient": r["recipient"],
            "state": "ambiguous" if r["state"] == "sending" else r["state"],
            "attempts": r["attempts"],
            "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
            "error": r["last_error"],
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if not shown:
        click.echo(f"{event}: no deliveries" + (f" in state {state}" if state else ""))
        return
    for d in shown:
        error = f"  {d['error']}" if d["error"] else ""
        click.echo(f"{d['message']:<22} {d['state']:<10} {d['recipient']}{error}")


@deliveries.command()
@click.argument("event")
@click.option("--as-sent", is_flag=True, help="They did get it: mark ambiguous deliveries sent.")
@click.option("--resend", is_flag=True, help="They did not: send those messages again now.")
@click.option("--to", "to", metavar="EMAIL", help="Only this recipient.")
@click.option("--dry-run", is_flag=True, help="List the ambiguous deliveries it would decide; change and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def resolve(app, event: str, as_sent: bool, resend: bool, to: str | None, dry_run: bool, as_json: bool) -> None:
    """Decide what happened to ambiguous deliveries (left `sending` by a crash or lost connection).

    Exit code 1 when a message sent again fails again.

    \b
    Example:
        opsflow deliveries resolve example-seminar --as-sent --dry-run
        opsflow deliveries resolve example-seminar --as-sent
        opsflow deliveries resolve example-seminar --resend --to t-yamada@city.kaga.lg.jp
    """
    from opsflow import store as db
    from opsflow.after.staff_chat import RECIPIENT as STAFF_CHAT
    from opsflow.cli.views import batch_data

    if as_sent == resend:
        raise click.UsageError("give exactly one of --as-sent or --resend")
    store = app.store()
    stored = app.stored_event(store, event)
    recipients = [to.strip().lower()] if to else None
    at = now()
    decided = "sent" if as_sent else "to send again"
    with store.read() if dry_run else store.begin() as conn:
        rows = [
            r
            for r in db.list_deliveries(conn, event, state="sending")
            if recipients is None or r["recipient"] in recipients
        ]
        alerts = [
            r["message_key"]
            for r in rows
            if r["recipient"] == STAFF_CHAT and r["message_key"].startswith("chat.alert.")
        ]
        if resend and alerts:  # decided before anything changes
            raise click.UsageError(
                f"{', '.join(sorted(alerts))}: a staff chat alert is not posted again by hand (the alert mail and "
                f"`opsflow status {event}` still show the step): decide it with `--to staff-chat --as-sent`, "
                "then send the others again with --to EMAIL --resend"
            )
        changed = len(rows)
        if not dry_run:
            changed = db.set_deliveries(
                conn,
                event,
                {"state": "sent" if as_sent else "pending", "last_error": None},
                at,
                states=("sending",),
                recipients=recipients,
            )
    found = [{"message": r["message_key"], "recipient": r["recipient"]} for r in rows]
    reports = []
    posts = []  # a staff chat summary in doubt, posted again (opsflow.after.staff_chat)
    if resend and rows and not dry_run:
        from opsflow.after.staff_chat import post_summary
        from opsflow.mail.send import send_mail

        mails = sorted({r["message_key"] for r in rows if r["recipient"] != STAFF_CHAT})
        with _progress(as_json) as progress:
            for key in mails:
                reports.append(send_mail(store, app.settings, stored, key, at, sync=False, to=to, progress=progress))
        for key in sorted({r["message_key"] for r in rows if r["recipient"] == STAFF_CHAT}):
            posts.append(post_summary(store, app.settings, stored, key.removeprefix("chat."), at))
    failures = any(r.has_failures for r in reports) or any(p.outcome not in ("posted", "already") for p in posts)
    if as_json:
        print_json(
            {
                "event": event,
                "dry_run": dry_run,
                "decision": "sent" if as_sent else "resend",
                "changed": 0 if dry_run else changed,
                "deliveries": found,
                "resent": [batch_data(r, False) for r in reports],
                "reposted": [{"message": p.message_key, "outcome": p.outcome, "detail": p.detail} for p in posts],
            }
        )
    elif dry_run:
        click.echo(f"(dry run) {event}: {len(found)} ambiguous deliveries would be marked {decided}")
        for d in found:
            click.echo(f"  {d['message']:<22} {d['recipient']}")
    else:
        click.echo(f"{event}: {changed} ambiguous deliveries marked {decided}")
        for report in reports:
            click.echo(f"{event}: {report.message_key}: {len(report.sent)} sent again")
        for post in posts:
            click.echo(f"{event}: {post.message_key}: {post.line()}")
    if failures:
        if as_json:
            sys.exit(1)
        raise OpsflowError("some of them failed again: see `opsflow deliveries " + event + "`")

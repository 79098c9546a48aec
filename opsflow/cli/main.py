"""The `opsflow` command: click commands that parse, call the library, and print.

Errors raised on purpose (`OpsflowError`) print as `Error: ...` on stderr with exit code 1, or 2 for
invalid input; `--debug` shows the traceback instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from opsflow import __version__
from opsflow.cli.common import json_option, now, print_json
from opsflow.core.errors import NotFoundError, OpsflowError

EXAMPLE = "jobs/example-seminar.toml"


@dataclass
class App:
    """What every command shares: the flags of the group, settings loaded on first use."""

    debug: bool = False
    _settings: object = field(default=None, repr=False)

    @property
    def settings(self):
        if self._settings is None:
            from opsflow.core.config import configure_logging, load_settings

            self._settings = load_settings()
            configure_logging(self._settings)
        return self._settings

    def store(self):
        from opsflow.store import open_store

        return open_store(self.settings.database_url.reveal())

    def zoom(self):
        from opsflow.zoom import zoom_from_settings

        return zoom_from_settings(self.settings)

    def stored_event(self, store, event_id: str):
        """The event as last applied, rebuilt from the database."""
        from opsflow import store as db
        from opsflow.core.jobspec import event_from_json

        with store.read() as conn:
            row = db.get_event(conn, event_id)
        if row is None:
            raise NotFoundError(f"no event {event_id!r} in the database: check the id, or run `opsflow apply`")
        return event_from_json(row["spec_json"], row["source_path"])

    def load_events(self, files: tuple[Path, ...]):
        from opsflow.core.jobspec import load_jobs

        return load_jobs(self.job_paths(files))

    def read_events(self, files: tuple[Path, ...]):
        """(the events whose files load and plan, the problems of the others): one bad file stops no other."""
        from opsflow.core.errors import JobFileError
        from opsflow.core.jobspec import read_jobs
        from opsflow.core.plan import plan_event

        events, problems = read_jobs(self.job_paths(files))
        good = []
        for event in events:
            try:
                plan_event(event)
            except JobFileError as exc:
                problems.append(exc)
                continue
            good.append(event)
        return good, problems

    def job_paths(self, files: tuple[Path, ...]) -> list[Path]:
        """FILES, or every job file in the jobs folder (which must hold one)."""
        from opsflow.core.jobspec import job_paths

        paths = list(files) or job_paths(self.settings.jobs_dir)
        if not paths:
            raise NotFoundError(
                f"no job files (*.toml) in {self.settings.jobs_dir}: write one, e.g. by copying {EXAMPLE}"
            )
        return paths


class OpsflowGroup(click.Group):
    """Turns OpsflowError into `Error: ...` and an exit code, unless --debug asks for the traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OpsflowError as exc:
            app = ctx.find_object(App)
            if app is not None and app.debug:
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


now_option = click.option("--now", "now_text", hidden=True, help="Pretend the time is this ISO datetime.")
files_argument = click.argument("files", nargs=-1, type=click.Path(path_type=Path))


@click.group(cls=OpsflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="opsflow")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Run the operations of an online seminar series from job files.

    \b
    Example:
        opsflow validate
        opsflow plan jobs/example-seminar.toml
        opsflow apply && opsflow status
    """
    ctx.obj = App(debug=debug)


@cli.command()
@files_argument
@json_option
@click.pass_obj
def validate(app: App, files: tuple[Path, ...], as_json: bool) -> None:
    """Check job files without changing anything.

    FILES default to every *.toml in the jobs folder (OPSFLOW_JOBS_DIR, default ./jobs). Every mail
    template the seminar uses is rendered with a sample recipient. Exit code 2 when a file or a
    template has a problem; every job-file problem is listed.

    \b
    Example:
        opsflow validate jobs/example-seminar.toml
    """
    from opsflow.core.plan import plan_events
    from opsflow.mail.send import check_templates

    checked = plan_events(app.load_events(files))
    for event, steps in checked:
        check_templates(app.settings, event, steps)
    if as_json:
        print_json({"ok": True, "files": [{"path": str(e.path), "event": e.id, "steps": len(s)} for e, s in checked]})
        return
    for event, steps in checked:
        click.echo(f"ok: {event.path} ({event.id}, {len(steps)} steps)")


@cli.command()
@files_argument
@json_option
@now_option
@click.pass_obj
def plan(app: App, files: tuple[Path, ...], as_json: bool, now_text: str | None) -> None:
    """Show every step of each seminar with its due time in local time.

    Warns about a mail due at night (outside 08:00-20:00 local), on a weekend or public holiday,
    or already in the past. Changes nothing.

    \b
    Example:
        opsflow plan jobs/example-seminar.toml
        opsflow plan --json | jq '.events[].steps[].due_at'
    """
    from opsflow.cli.views import plan_data, print_plan
    from opsflow.core.plan import check_plan, plan_events

    at = now(now_text)
    planned = plan_events(app.load_events(files))
    warnings = [w for event, steps in planned for w in check_plan(event, steps, at)]
    data = plan_data(planned, warnings)
    print_json(data) if as_json else print_plan(data)


@cli.command()
@files_argument
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
@now_option
@click.pass_obj
def apply(app: App, files: tuple[Path, ...], dry_run: bool, as_json: bool, now_text: str | None) -> None:
    """Load job files into the database and (re)plan their steps.

    A new seminar gets its steps; a changed start time moves the steps still pending; a step removed
    from the file is cancelled; a step already run is never touched. When the seminar's Zoom meeting
    exists, a changed title, time or duration is sent to Zoom, and `cancelled = true` deletes the
    meeting (unless `delete_on_cancel = false`). A job file with a problem is reported (exit code 2)
    and the others are applied all the same. Safe to run again.

    \b
    Example:
        opsflow apply                       # every job file in ./jobs
        opsflow apply jobs/example-seminar.toml --dry-run
    """
    from opsflow.cli.views import apply_data, print_apply
    from opsflow.core.apply import apply_events
    from opsflow.core.errors import JobFileErrors
    from opsflow.zoom.meeting import sync_after_apply

    events, problems = app.read_events(files)
    if events:
        store, at = app.store(), now(now_text)
        results = apply_events(store, events, at, dry_run=dry_run)
        outcomes = sync_after_apply(store, app.zoom, events, at, dry_run=dry_run)
        data = apply_data(results, dry_run, outcomes)
        print_json(data) if as_json else print_apply(data)
    if problems:
        raise JobFileErrors(problems)


# What `status` shows without EVENT or --all: the seminars around today (a bimonthly series: the last half
# year and the next), besides everything that needs attention, however old.
STATUS_HELD = 3
STATUS_UPCOMING = 3
ATTENTION_STATES = ("failed", "missed")  # a step blocked by another waits for a failed one


@cli.command()
@click.argument("event", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every seminar, not only those around today.")
@json_option
@now_option
@click.pass_obj
def status(app: App, event: str | None, show_all: bool, as_json: bool, now_text: str | None) -> None:
    """Show seminars and their steps: state, due time (local), attempts, last error.

    Without EVENT: the last 3 seminars held and the next 3, with a line saying how many more there are
    (`--all` shows every one). Failed and missed steps, steps blocked by a failed one and ambiguous
    deliveries (a crash while sending) come first, under "Needs attention", of every seminar however old.
    States: planned, running, done, failed, missed, cancelled; under each seminar, its deliveries by state.
    `--json` has the same, and `not_shown`: how many seminars were left out.

    \b
    Example:
        opsflow status
        opsflow status example-seminar --json
        opsflow status --all
    """
    from opsflow import store as db
    from opsflow.cli.views import print_status, status_data

    store = app.store()
    others, ambiguous, not_shown = [], None, 0
    with store.read() as conn:
        if event is not None or show_all:
            events = db.list_events(conn, event)
            if event is not None and not events:
                raise NotFoundError(f"no event {event!r} in the database: check the id, or run `opsflow apply`")
        else:
            events = db.events_around(conn, now(now_text), held=STATUS_HELD, upcoming=STATUS_UPCOMING)
            shown = {e["id"] for e in events}
            ambiguous = db.ambiguous_counts_by_event(conn)
            flagged = db.event_ids_with_steps_in(conn, ATTENTION_STATES) | set(ambiguous)
            others = db.events_by_id(conn, sorted(flagged - shown))
            not_shown = db.count_events(conn) - len(events)
        ids = [e["id"] for e in (*events, *others)]
        steps = db.list_steps(conn, ids)
        counts = db.delivery_counts_by_event(conn, [e["id"] for e in events])
    data = status_data(events, steps, counts, others=others, ambiguous=ambiguous, not_shown=not_shown)
    print_json(data) if as_json else print_status(data)


from opsflow.cli.after import report, series, summary, survey  # noqa: E402  (the group above must exist first)
from opsflow.cli.chat import chat  # noqa: E402
from opsflow.cli.mail import deliveries, preview, send  # noqa: E402
from opsflow.cli.recording import recording  # noqa: E402
from opsflow.cli.registrants import registrants  # noqa: E402
from opsflow.cli.runner import demo, doctor, run_due, scheduler  # noqa: E402
from opsflow.cli.speakers import speakers  # noqa: E402
from opsflow.cli.zoom import zoom  # noqa: E402

for _command in (
    zoom,
    registrants,
    send,
    preview,
    deliveries,
    speakers,
    report,
    recording,
    survey,
    summary,
    series,
    run_due,
    scheduler,
    doctor,
    chat,
    demo,
):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="opsflow")


if __name__ == "__main__":  # pragma: no cover
    main()  # click exits the process itself; main() returns nothing to pass to sys.exit

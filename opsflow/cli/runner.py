"""`opsflow run-due`, `opsflow scheduler` and `opsflow doctor`: running unattended, and checking the setup."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from opsflow.cli.common import json_option, now, print_json
from opsflow.cli.quick import run_due_output

log_format_option = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Lines as text, or one JSON object per line for a log collector.",
)


@click.command("run-due")
@click.option("--now", "now_text", metavar="ISO", help="Run as if it were this time (with an offset).")
@click.option("--dry-run", is_flag=True, help="List the steps that are due and who they would mail; do nothing.")
@json_option
@log_format_option
@click.pass_obj
def run_due(app, now_text: str | None, dry_run: bool, as_json: bool, log_format: str) -> None:
    """Run every step that is due, then exit: for cron, every minute.

    First, job files of the jobs folder that changed since they were applied (or whose registrants
    CSV changed) are applied again, as `opsflow apply` would. Quiet and quick when nothing is due.
    Prints one line per step on stdout (a retry with its next attempt, in the seminar's time zone);
    warnings go to stderr. `--log-format json` writes both as JSON lines; `--json` prints one JSON
    list instead. Exit code 0 when everything due ran, waits for a step still running, or was put
    off to retry; 1 when a step failed, was missed or is blocked by a failed step, a delivery is in
    doubt, or a job file has an error (staff get one alert per problem); 2 when there is nothing to
    run from here.

    \b
    Example:
        * * * * *  cd /srv/seminars && /srv/seminars/.venv/bin/opsflow run-due
        opsflow run-due --dry-run --now 2027-01-20T18:00:00+09:00
        opsflow run-due --log-format json >> /var/log/opsflow.jsonl 2>&1
    """
    from opsflow.core.runner import RunContext, StepResult
    from opsflow.core.runner import run_due as run
    from opsflow.core.scheduler import configure
    from opsflow.core.watch import refresh_jobs

    _require_something_to_run(app.settings)
    # the step lines are printed below, once: the log (stderr) carries warnings about anything else
    configure(app.settings, log_format, level=logging.WARNING, step_lines=False, propagate=True)
    at, store = now(now_text), app.store()
    refresh = refresh_jobs(store, app.zoom, app.settings.jobs_dir, at, dry_run=dry_run)
    results = [
        StepResult(
            r.event_id,
            "job-file",
            "would-apply" if dry_run else "applied",
            "; ".join(
                f"{c.step_key}: {c.message}" if c.step_key else c.message
                for c in r.changes
                if c.action != "keep-step" and c.message
            ),
        )
        for r in refresh.applied
    ]
    results += [StepResult(event_id, "job-file", "applied", note) for event_id, note in refresh.notes]
    results += [
        StepResult(owner, "job-file", "error", message, needs_attention=True) for owner, message in refresh.errors
    ]
    results += run(RunContext(store, app.settings, at, app.zoom, dry_run=dry_run, held=refresh.held))
    if as_json:  # the quick path prints the same for nothing due (entry.py)
        click.echo(run_due_output([r.as_dict() for r in results], as_json=True), nl=False)
    elif log_format == "json":
        _print_json_lines(store, results)
    else:
        for r in results:
            click.echo(r.line())
    if any(r.needs_attention for r in results):
        sys.exit(1)


def _print_json_lines(store, results) -> None:
    """Each result as the scheduler's JSON log line, timed now in its seminar's zone."""
    import time

    from opsflow.core.scheduler import event_zones, json_line, line_time

    if not results:
        return
    zones = event_zones(store, sorted({r.event_id for r in results if r.tz is None}))
    printed_at = time.time()
    for r in results:
        fields = {
            "time": line_time(printed_at, r.tz or zones.get(r.event_id)),
            "level": logging.getLevelName(r.level).lower(),
            "event_id": r.event_id,
            "step": r.key,
            "state": r.state,
            "message": r.line(),
        }
        if r.retry_at is not None:
            fields["retry_at"] = r.retry_at
        click.echo(json_line(fields))


def _require_something_to_run(settings) -> None:
    """A crontab line that lost its `cd` runs in the wrong folder: say so instead of making an empty
    database there and exiting 0 every minute for ever."""
    from opsflow.core.errors import InputError

    url = settings.database_url.reveal()
    database = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if database is None or database in ("", ":memory:") or Path(database).exists():
        return
    jobs = settings.jobs_dir
    if jobs.is_dir() and any(jobs.glob("*.toml")):
        return
    raise InputError(
        f"nothing to run here ({Path.cwd()}): no database at {Path(database).resolve()} and no job "
        f"files in {jobs.resolve()}. Run opsflow from the seminars folder (in cron: `cd FOLDER && "
        "opsflow run-due`), or set OPSFLOW_DATABASE_URL and OPSFLOW_JOBS_DIR"
    )


@click.command()
@log_format_option
@click.option(
    "--poll",
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Look at the database at least this often (other processes may add work).",
)
@click.pass_obj
def scheduler(app, log_format: str, poll: float) -> None:
    """Run as a service: wake when each step is due, re-apply job files when they change.

    Logs one line per event on stderr: a step that starts, its outcome (a retry with its next attempt),
    a job file applied again. Times are to the second in the seminar's time zone. SIGTERM (systemctl
    stop) lets the message in flight finish and exits 0.

    \b
    Example:
        opsflow scheduler --log-format json
    """
    from opsflow.core.scheduler import Scheduler, configure

    configure(app.settings, log_format)
    Scheduler(app.store(), app.settings, app.zoom, app.settings.jobs_dir, poll=poll).serve()


@click.command()
@json_option
@click.pass_obj
def doctor(app, as_json: bool) -> None:
    """Check the setup: database, job files and templates, time zones, Zoom, the mail server.

    Sends no mail and creates nothing. Exit code 1 when a check fails; each says how to fix it.

    \b
    Example:
        opsflow doctor
        opsflow doctor --json | jq '.checks[] | select(.status == "fail")'
    """
    from opsflow.core.doctor import run_checks

    checks = run_checks(app.settings, now())
    if as_json:
        print_json(
            {
                "ok": all(check.ok is not False for check in checks),
                "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in checks],
            }
        )
    else:
        for check in checks:
            mark = "ok  " if check.ok else ("skip" if check.ok is None else "FAIL")
            click.echo(f"[{mark}] {check.name}: {check.detail}")
    if any(check.ok is False for check in checks):
        sys.exit(1)


@click.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("opsflow-demo"),
    show_default=True,
    help="Where the outbox, the database and the demo's job file go (emptied first).",
)
def demo(output: Path) -> None:
    """Run a whole seminar in under a minute: no accounts, nothing really sent.

    A fake Zoom on loopback, the example job and its 40 registrants, a clock that jumps from step to
    step, a simulated attendance and survey. The emails land in OUTPUT/outbox with index.html, a page of
    the seminar as it ran (timeline, staff summary, a sample of each mail), and OUTPUT/index.png, its
    screenshot, when Chromium is installed.

    \b
    Example:
        opsflow demo
        opsflow demo --output /tmp/seminar-demo
    """
    import time

    from opsflow.sandbox.demo import run_demo

    started = time.monotonic()
    result = run_demo(output, echo=click.echo)
    click.echo(
        f"\n{result.steps} steps done, {result.messages} emails in {result.outbox} "
        f"(open {result.outbox / 'index.html'} in a browser) in {time.monotonic() - started:.1f} s"
    )

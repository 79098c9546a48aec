"""`opsflow run-due`, `opsflow scheduler` and `opsflow doctor`: running unattended, and checking the setup."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli_common import now


@click.command("run-due")
@click.option("--now", "now_text", metavar="ISO", help="Run as if it were this time (with an offset).")
@click.option("--dry-run", is_flag=True, help="List the steps that are due and who they would mail; do nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def run_due(app, now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Run every step that is due, then exit: for cron, every minute.

    Quiet and quick when nothing is due. Exit code 0 when everything due ran (or was put off to
    retry), 1 when a step failed or was missed (staff get an alert either way).

    \b
    Example:
        * * * * *  cd /srv/seminars && /srv/seminars/.venv/bin/opsflow run-due
        opsflow run-due --dry-run --now 2027-01-20T18:00:00+09:00
    """
    from .runner import RunContext
    from .runner import run_due as run

    results = run(RunContext(app.store(), app.settings, now(now_text), app.zoom, dry_run=dry_run))
    if as_json:
        click.echo(json.dumps([vars(r) for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            click.echo(f"{r.event_id}: {r.key} {r.state}" + (f" ({r.message})" if r.message else ""))
    if any(r.state in ("failed", "missed") for r in results):
        sys.exit(1)


@click.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="One line per action, readable or as JSON for a log collector.")
@click.option("--poll", default=60.0, show_default=True, metavar="SECONDS",
              help="Look at the database at least this often (other processes may add work).")
@click.pass_obj
def scheduler(app, log_format: str, poll: float) -> None:
    """Run as a service: wake when each step is due, re-apply job files when they change.

    SIGTERM (systemctl stop) lets the message in flight finish and exits 0.

    \b
    Example:
        opsflow scheduler --log-format json
    """
    from .scheduler import Scheduler, configure

    configure(app.settings, log_format)
    Scheduler(app.store(), app.settings, app.zoom, app.settings.jobs_dir, poll=poll).serve()


@click.command()
@click.pass_obj
def doctor(app) -> None:
    """Check the setup: database, job files and templates, time zones, Zoom, the mail server.

    Sends no mail and creates nothing. Exit code 1 when a check fails; each says how to fix it.

    \b
    Example:
        opsflow doctor
    """
    from .doctor import run_checks

    checks = run_checks(app.settings, now())
    for check in checks:
        mark = "ok  " if check.ok else ("skip" if check.ok is None else "FAIL")
        click.echo(f"[{mark}] {check.name}: {check.detail}")
    if any(check.ok is False for check in checks):
        sys.exit(1)


@click.command()
@click.option("--output", type=click.Path(path_type=Path), default=Path("opsflow-demo"), show_default=True,
              help="Where the outbox, the database and the demo's job file go (emptied first).")
def demo(output: Path) -> None:
    """Run a whole seminar in under a minute: no accounts, nothing really sent.

    A fake Zoom on loopback, the example job and its 40 registrants, a clock that jumps from step to
    step, a simulated attendance and survey. The emails land in OUTPUT/outbox with an index.html.

    \b
    Example:
        opsflow demo
        opsflow demo --output /tmp/seminar-demo
    """
    import time

    from .demo import run_demo

    started = time.monotonic()
    result = run_demo(output, echo=click.echo)
    click.echo(f"\n{result.steps} steps done, {result.messages} emails in {result.outbox} "
               f"(open {result.outbox / 'index.html'} in a browser) in {time.monotonic() - started:.1f} s")

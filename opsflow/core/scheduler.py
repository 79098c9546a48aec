"""`opsflow scheduler`: APScheduler wiring that wakes the runner when the next step is due.

The database is the state; APScheduler's in-memory job store only holds the next wake-up, rebuilt from
the database after every run. Job files are applied again when they change. SIGTERM or Ctrl-C lets
the message in flight finish, returns the unfinished step to `planned`, and exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsflow import store as db
from opsflow.core.config import RedactingFilter, Settings
from opsflow.core.errors import OpsflowError
from opsflow.core.runner import RunContext, run_due
from opsflow.store import Store

log = logging.getLogger("opsflow.core.scheduler")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def configure(settings: Settings, log_format: str) -> None:
    """One line per action on stderr, as text or JSON, with secrets redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    handler.addFilter(RedactingFilter(settings.secret_values()))
    root = logging.getLogger("opsflow")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


class Scheduler:
    """Runs due steps at their time; `poll` bounds how long it sleeps (other processes may add work)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        make_zoom: Callable,
        jobs_dir: Path,
        *,
        poll: float = 60.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.store, self.settings, self.make_zoom, self.jobs_dir = store, settings, make_zoom, jobs_dir
        self.poll = timedelta(seconds=poll)
        self.now = now
        self.stopping = threading.Event()
        self.aps = BlockingScheduler(timezone=UTC)
        self.held: set[str] = set()  # events whose job file has an error: their steps wait

    def serve(self) -> None:
        """Block until SIGTERM or SIGINT."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.reapply()
        self.aps.add_job(
            self.reapply_if_changed,
            "interval",
            seconds=max(self.poll.total_seconds() / 6, 5),
            id="watch-jobs",
            max_instances=1,
            coalesce=True,
        )
        self.schedule_next()
        log.info("scheduler started; jobs folder %s", self.jobs_dir)
        self.aps.start()
        log.info("scheduler stopped")

    def wake(self) -> None:
        if self.stopping.is_set():
            return
        ctx = RunContext(
            self.store, self.settings, self.now(), self.make_zoom, should_stop=self.stopping.is_set, held=self.held
        )
        try:
            for result in run_due(ctx):
                log.info(
                    "%s: %s %s%s",
                    result.event_id,
                    result.key,
                    result.state,
                    f" ({result.message})" if result.message else "",
                )
        except OpsflowError as exc:
            log.error("run failed: %s", exc)
        finally:
            self.schedule_next()

    def schedule_next(self) -> None:
        if self.stopping.is_set():
            return
        with self.store.read() as conn:
            due = db.next_due_at(conn)
        now = self.now()
        when = now + self.poll if due is None else max(min(due, now + self.poll), now)
        self.aps.add_job(self.wake, "date", run_date=when, id="wake", replace_existing=True, misfire_grace_time=None)

    def reapply(self) -> bool:
        """Apply the job files that changed since they were applied (as `run-due` does); True when
        anything changed."""
        from opsflow.core.watch import refresh_jobs

        try:
            refresh = refresh_jobs(self.store, self.make_zoom, self.jobs_dir, self.now())
        except OpsflowError as exc:
            log.error("job files not applied: %s", exc)
            return False
        for result in refresh.applied:
            for change in result.changes:
                if change.action != "keep-step" and change.message:
                    log.info(
                        "%s: %s%s", result.event_id, f"{change.step_key}: " if change.step_key else "", change.message
                    )
        for event_id, note in refresh.notes:
            log.info("%s: %s", event_id, note)
        for owner, message in refresh.errors:
            log.error("%s: job file not applied: %s", owner, message)
        self.held = refresh.held
        return bool(refresh.applied or refresh.notes)

    def reapply_if_changed(self) -> None:
        if self.reapply():
            self.schedule_next()

    def stop(self) -> None:
        self.stopping.set()
        self.aps.shutdown(wait=False)

    def _on_signal(self, signum, frame) -> None:
        log.info("signal %s: finishing the message in flight, then stopping", signum)
        self.stop()

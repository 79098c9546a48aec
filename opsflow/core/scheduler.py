"""`opsflow scheduler`: APScheduler wiring that wakes the runner when the next step is due, and the log
format of `scheduler` and `run-due`.

The database is the state; APScheduler's in-memory job store only holds the next wake-up, rebuilt from
the database after every run. Job files are applied again when they change. SIGTERM or Ctrl-C lets
the message in flight finish, returns the unfinished step to `planned`, and exits 0.

Logs: one line per event, its time to the second in the seminar's time zone (for lines about no
seminar, the zone the seminars share, else the host's); as text or as one JSON object per line
(`time`, `level`, `event_id`, `step`, `state`, `message`, and `retry_at` for a retry), with every
secret of the settings masked.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from opsflow import store as db
from opsflow.core.config import MASK, RedactingFilter, Settings
from opsflow.core.errors import OpsflowError
from opsflow.core.runner import RunContext, current_step, local_text, run_due
from opsflow.store import Store

log = logging.getLogger("opsflow.core.scheduler")
FIELDS = ("event_id", "step", "state")


def line_time(created: float, tz: tzinfo | None) -> datetime:
    """A log line's time: to the second, in `tz` (the seminar's) or else the host's zone."""
    moment = datetime.fromtimestamp(int(created), UTC)
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def json_line(fields: dict[str, Any]) -> str:
    """One JSON object on one line; datetimes as ISO 8601 with their offset."""
    return json.dumps(
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()},
        ensure_ascii=False,
    )


class _Masking(logging.Formatter):
    """A formatter that masks every secret in the whole line, tracebacks included."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in secrets or [] if s]

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class TextFormatter(_Masking):
    """`2026-12-04 08:01:56 JST INFO example-seminar: zoom.create done (...)`."""

    def format(self, record: logging.LogRecord) -> str:
        moment = line_time(record.created, getattr(record, "tz", None))
        text = f"{local_text(moment)} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return self.mask(text)


class JsonFormatter(_Masking):
    """One JSON object per line: time, level, event_id, step, state, message (and retry_at, logger)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": line_time(record.created, getattr(record, "tz", None)),
            "level": record.levelname.lower(),
            **{name: getattr(record, name, None) for name in FIELDS},
            "message": self.mask(record.getMessage()),
            "logger": record.name,
        }
        if getattr(record, "retry_at", None) is not None:
            fields["retry_at"] = record.retry_at  # type: ignore[attr-defined]
        if record.exc_info:
            fields["error"] = self.mask(self.formatException(record.exc_info))
        return json_line(fields)


class _StepContext(logging.Filter):
    """Gives a record made while a step runs (a Zoom retry, a mail server's answer) its step's event,
    key and time zone, unless it carries its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_step().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class _NoStepLines(logging.Filter):
    """Drops the runner's step lines: `run-due` prints them on stdout, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "step_line", False)


def configure(
    settings: Settings,
    log_format: str,
    *,
    level: int = logging.INFO,
    step_lines: bool = True,
    propagate: bool = False,
    stream: TextIO | None = None,
) -> None:
    """One line per event on stderr, as text or JSON, with secrets masked.

    `step_lines=False` leaves out the runner's lines about steps (a caller that prints them itself);
    `propagate` lets the records reach the root logger too (never for the service: a second handler
    there would write each line twice).
    """
    secrets = settings.secret_values()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets))
    handler.addFilter(RedactingFilter(secrets))
    handler.addFilter(_StepContext())
    if not step_lines:
        handler.addFilter(_NoStepLines())
    root = logging.getLogger("opsflow")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = propagate


def event_zones(store: Store, event_ids: list[str] | None = None) -> dict[str, tzinfo]:
    """The time zone of each applied seminar (of `event_ids`, when given), by event id."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    with store.read() as conn:
        names = db.event_timezones(conn, event_ids)
    zones: dict[str, tzinfo] = {}
    for event_id, name in names.items():
        try:
            zones[event_id] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # a zone this host does not know: the host's zone then
            continue
    return zones


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
        self.parked: set[int] = set()  # steps that waited or were blocked at the last wake: not a reason to wake
        self.reported: dict[int, str] = {}  # the last line logged per step (see RunContext.reported)
        self._running = threading.Lock()  # one wake at a time
        self._scheduling = threading.Lock()
        self._wake_job: Any = None
        self.zone: tzinfo | None = None  # the seminars' zone when they share one: for lines about none
        self._zone_known = False

    def _log(self, level: int, message: str, *args: object) -> None:
        log.log(level, message, *args, extra={"tz": self.zone})

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
        self._log(logging.INFO, "scheduler started; jobs folder %s", self.jobs_dir)
        self.aps.start()
        self._log(logging.INFO, "scheduler stopped")

    def wake(self) -> None:
        """Run what is due (each step logs its own line), then set the next wake-up."""
        with self._running:
            if self.stopping.is_set():
                return
            ctx = RunContext(
                self.store,
                self.settings,
                self.now(),
                self.make_zoom,
                should_stop=self.stopping.is_set,
                held=self.held,
                clock=self.now,
                reported=self.reported,
            )
            failed = False
            try:
                results = run_due(ctx)
                # a step that waits or is blocked stays due: waking for it again at once would spin
                keys = {(r.event_id, r.key) for r in results if r.state in ("waiting", "blocked")}
                self.parked = set()
                if keys:
                    with self.store.read() as conn:
                        due = db.due_steps(conn, self.now())
                    self.parked = {s["id"] for s in due if (s["event_id"], s["key"]) in keys}
            except OpsflowError as exc:
                self._log(logging.ERROR, "run failed: %s", exc)
                failed = True
            finally:
                self.schedule_next(after_error=failed)

    def next_wake(self, now: datetime) -> datetime:
        """When to wake next: the earliest due step that is not parked, and at the latest `now + poll`."""
        horizon = now + self.poll
        with self.store.read() as conn:
            steps = db.due_steps(conn, horizon)
        times = [
            s["lease_until"] if s["state"] == "running" else (s["retry_at"] or s["due_at"])
            for s in steps
            if s["id"] not in self.parked and s["event_id"] not in self.held
        ]
        return max(min(times, default=horizon), now)

    def schedule_next(self, *, after_error: bool = False) -> None:
        """Replace the pending wake-up. Each wake-up is a job of its own (APScheduler removes a date job
        once it has run, and skips one whose earlier run has not returned yet: one job id reused from
        inside its own run could vanish, and the scheduler would sleep for ever)."""
        if self.stopping.is_set():
            return
        now = self.now()
        try:
            when = now + self.poll if after_error else self.next_wake(now)
        except OpsflowError as exc:
            self._log(logging.ERROR, "cannot read the database: %s", exc)
            when = now + self.poll
        with self._scheduling:
            if self._wake_job is not None:
                from apscheduler.jobstores.base import JobLookupError

                try:
                    self._wake_job.remove()
                except JobLookupError:  # it ran already
                    pass
            self._wake_job = self.aps.add_job(self.wake, "date", run_date=when, misfire_grace_time=None)

    def reapply(self) -> bool:
        """Apply the job files that changed since they were applied (as `run-due` does); True when
        anything changed."""
        from opsflow.core.watch import refresh_jobs

        try:
            refresh = refresh_jobs(self.store, self.make_zoom, self.jobs_dir, self.now())
        except OpsflowError as exc:
            self._log(logging.ERROR, "job files not applied: %s", exc)
            return False
        lines: list[tuple[int, str, str]] = []
        for result in refresh.applied:
            for change in result.changes:
                if change.action != "keep-step" and change.message:
                    step = f"{change.step_key}: " if change.step_key else ""
                    lines.append((logging.INFO, result.event_id, f"{step}{change.message}"))
        lines += [(logging.INFO, event_id, note) for event_id, note in refresh.notes]
        lines += [(logging.ERROR, owner, f"job file not applied: {message}") for owner, message in refresh.errors]
        zones: dict[str, tzinfo] = {}
        if lines or not self._zone_known:  # the seminars changed, or it is the first look
            zones = event_zones(self.store)
            shared = set(zones.values())
            self.zone, self._zone_known = (shared.pop() if len(shared) == 1 else None), True
        for level, owner, text in lines:
            log.log(level, "%s: %s", owner, text, extra={"event_id": owner, "tz": zones.get(owner)})
        self.held = refresh.held
        return bool(refresh.applied or refresh.notes)

    def reapply_if_changed(self) -> None:
        if self.reapply():
            self.schedule_next()

    def stop(self) -> None:
        self.stopping.set()
        self.aps.shutdown(wait=False)

    def _on_signal(self, signum, frame) -> None:
        self._log(logging.INFO, "signal %s: finishing the message in flight, then stopping", signum)
        self.stop()

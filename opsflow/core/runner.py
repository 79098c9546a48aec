"""Run the steps that are due: claim each with a lease, run its action, record the outcome.

`run_due(ctx)` is what `opsflow run-due` (cron) and `opsflow scheduler` call. Several runners at once,
on one host or several, never run a step twice: a step is claimed by one conditional UPDATE, and every
message inside it is claimed again through the delivery ledger. A runner that dies loses its claim when
the lease runs out. Time is passed in (`ctx.now`).

Each step that starts and each outcome is logged here, once, as one line (`StepResult.line()`) that
carries the event id, the step, its state and the seminar's time zone as record attributes; the
scheduler logs nothing more about a step, and `run-due` prints the same lines instead of logging them.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from opsflow import store as db
from opsflow.core.errors import ChatError, MailError, OpsflowError, ZoomError
from opsflow.core.needs import first_unfinished, may_wait

if TYPE_CHECKING:  # the job-file models, mail and Zoom load only once a step is due (cron's every minute)
    from opsflow.core.config import Settings
    from opsflow.core.jobspec import Event
    from opsflow.mail.ledger import BatchStopped
    from opsflow.store import Store

log = logging.getLogger("opsflow.core.runner")

LEASE = timedelta(minutes=15)
RETRY_FIRST = timedelta(minutes=2)
RETRY_MAX = timedelta(hours=1)
# How long after its due time a transient failure may still be retried, per step kind.
DEADLINES = {
    "zoom.create": timedelta(days=7),
    "registrants.sync": timedelta(days=7),
    "report.fetch": timedelta(hours=24),
    "summary.staff": timedelta(days=2),
    # a speaker's request waits for Zoom's panelists: staff hear within a day, not at the start
    "speakers.request": timedelta(days=1),
    "speakers.thanks": timedelta(days=2),
}
DEFAULT_DEADLINE = timedelta(hours=12)
# useless once the seminar has started
REMINDER_KINDS = (
    "mail.invitation",
    "mail.confirmation",
    "mail.reminder",
    "mail.change",
    "speakers.request",
    "speakers.rehearsal",
    "speakers.materials",
)
WARNING_STATES = ("failed", "missed", "blocked")
QUIET_REPEATS = ("waiting", "blocked")  # said again unchanged at the next wake: logged at DEBUG only

# The step being run in this thread, so that every log record made meanwhile (the Zoom client's
# retries, the mail server's answers) can carry its event, step and time zone.
_current_step: ContextVar[dict[str, Any] | None] = ContextVar("opsflow_current_step", default=None)


def current_step() -> dict[str, Any]:
    """`event_id`, `step` and `tz` of the step running in this thread (empty outside a step)."""
    return dict(_current_step.get() or {})


def local_text(moment: datetime) -> str:
    """A time as the logs show it: to the second, in the zone it carries, e.g. `2026-12-04 08:01:56 JST`."""
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.tzname()}"


class Busy(OpsflowError):
    """Another runner holds the work right now; try again later."""


@dataclass
class RunContext:
    """What a run needs: the store, settings, the time, and factories for the outside systems."""

    store: Store
    settings: Settings
    now: datetime
    make_zoom: Callable[[], Any]
    owner: str = field(default_factory=lambda: _runner_id())
    dry_run: bool = False
    should_stop: Callable[[], bool] = lambda: False
    held: set[str] = field(default_factory=set)  # events whose job file has an error: their steps wait
    # The time as the run goes on (a step may take minutes); by default `now` plus the time elapsed
    # since the context was made, so that a run at a given `--now` stays at that time.
    clock: Callable[[], datetime] | None = None
    # The last line logged per step id, kept across runs by a long-lived caller (the scheduler):
    # a step still waiting or blocked is then not logged again at INFO every time it is looked at.
    reported: dict[int, str] | None = None
    started: float = field(default_factory=time.monotonic, repr=False)

    def current(self) -> datetime:
        """The time now, for times computed after work (a retry's next attempt)."""
        if self.clock is not None:
            return self.clock()
        return self.now + timedelta(seconds=time.monotonic() - self.started)


@dataclass
class StepResult:
    event_id: str
    key: str
    state: str  # done, failed, missed, blocked, retry, waiting, would-run, would-miss, skipped
    message: str = ""
    needs_attention: bool = False  # a person must look (failed, missed, blocked, a delivery in doubt)
    retry_at: datetime | None = None  # for `retry`: the next attempt, in the seminar's time zone
    tz: tzinfo | None = field(default=None, repr=False, compare=False)  # the seminar's, for the log's times

    def __post_init__(self) -> None:
        self.needs_attention = self.needs_attention or self.state in WARNING_STATES

    @property
    def level(self) -> int:
        return logging.WARNING if self.state in WARNING_STATES else logging.INFO

    def line(self) -> str:
        """One line for people: `EVENT: STEP STATE (message)`, with the next attempt of a retry."""
        text = f"{self.event_id}: {self.key} {self.state}" + (f" ({self.message})" if self.message else "")
        if self.state == "retry" and self.retry_at is not None:
            text += f"; will be tried again at {local_text(self.retry_at)}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """The result for `--json`: times as ISO 8601 with the seminar's offset."""
        return {
            "event_id": self.event_id,
            "key": self.key,
            "state": self.state,
            "message": self.message,
            "needs_attention": self.needs_attention,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }

    def log_extra(self) -> dict[str, Any]:
        """The attributes a log record of this result carries (see `opsflow.core.scheduler`)."""
        return {
            "event_id": self.event_id,
            "step": self.key,
            "state": self.state,
            "retry_at": self.retry_at,
            "tz": self.tz,
            "step_line": True,
        }


def _runner_id() -> str:
    """`host:pid`, as `opsflow.zoom.meeting.runner_id` names a runner (written here too: that module loads
    the Zoom client, which a run with nothing due never needs; tests/test_runner.py checks they agree)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due(ctx: RunContext, *, event_id: str | None = None) -> list[StepResult]:
    """Run every step due at `ctx.now`, in due order. Returns what happened to each."""
    results: dict[int, StepResult] = {}
    finished: set[int] = set()
    parsed: dict[tuple[str, str, str], Event] = {}  # each seminar read once a run (until applied again)
    while not ctx.should_stop():
        with ctx.store.read() as conn:
            candidates = [
                s
                for s in db.due_steps(conn, ctx.now, event_id=event_id)
                if s["id"] not in finished and s["event_id"] not in ctx.held
            ]
            events = {e["id"]: e for e in db.events_by_id(conn, sorted({s["event_id"] for s in candidates}))}
        progress = False
        for step in candidates:
            if ctx.should_stop():
                break
            result = _run_one(ctx, step, _event(parsed, events[step["event_id"]]))
            _report(ctx, step, result)
            results[step["id"]] = result
            if result.state != "waiting":
                finished.add(step["id"])
                progress = progress or result.state != "skipped"
        # a step that waited for one done in this pass may run now, and a step done may have made
        # another due (new registrants reopen the invitation): go again until a pass changes nothing
        if not progress or ctx.dry_run:
            break
    return list(results.values())


def _event(parsed: dict[tuple[str, str, str], Event], row) -> Event:
    """The seminar of an event row, read from its stored job file once per version of that file."""
    key = (row["id"], row["spec_hash"], row["source_path"])
    if key not in parsed:
        from opsflow.core.jobspec import event_from_json

        parsed[key] = event_from_json(row["spec_json"], row["source_path"])
    return parsed[key]


def _run_one(ctx: RunContext, step, event: Event) -> StepResult:
    with _step_context(event, step["key"]):
        result = _run_step(ctx, step, event)
    result.tz = event.tz
    return result


@contextmanager
def _step_context(event: Event, key: str) -> Iterator[None]:
    token = _current_step.set({"event_id": event.id, "step": key, "tz": event.tz})
    try:
        yield
    finally:
        _current_step.reset(token)


def _report(ctx: RunContext, step, result: StepResult) -> None:
    """Log a step's outcome: one line, the only one about it (dry runs are the caller's to print)."""
    if ctx.dry_run:
        return
    line = result.line()
    level = result.level
    if ctx.reported is not None:
        if result.state in QUIET_REPEATS and ctx.reported.get(step["id"]) == line:
            level = logging.DEBUG
        ctx.reported[step["id"]] = line
    log.log(level, "%s", line, extra=result.log_extra())


def _run_step(ctx: RunContext, step, event: Event) -> StepResult:
    from opsflow.mail.ledger import BatchStopped

    key = step["key"]
    before = _waiting_for(ctx, step)
    if before is not None and before["state"] == "failed":
        return _blocked(ctx, event, step, before)
    if before is not None:
        return StepResult(event.id, key, "waiting", f"waits for {before['key']}")
    if _is_too_late(step, event, ctx.now):
        if ctx.dry_run:
            return StepResult(event.id, key, "would-miss", "the seminar has already started")
        with ctx.store.begin() as conn:
            if not db.claim_step(conn, step["id"], ctx.owner, ctx.now, ctx.now + LEASE):
                return StepResult(event.id, key, "skipped", "another runner has it")
            db.finish_step(conn, event.id, key, "missed", ctx.now, "found after the seminar had started: not sent")
        _alert(ctx, event, key, "missed", "found after the seminar had started: not sent")
        return StepResult(event.id, key, "missed", "found after the seminar had started: not sent")
    if ctx.dry_run:
        return StepResult(event.id, key, "would-run", _describe_dry_run(ctx, event, step))
    with ctx.store.begin() as conn:
        if not db.claim_step(conn, step["id"], ctx.owner, ctx.now, ctx.now + LEASE):
            return StepResult(event.id, key, "skipped", "another runner has it")
    log.info(
        "%s: %s starts",
        event.id,
        key,
        extra={"event_id": event.id, "step": key, "state": "running", "tz": event.tz, "step_line": True},
    )
    try:
        message = ACTIONS[step["kind"]](ctx, event, step)
    except BatchStopped as exc:
        return _stopped(ctx, event, step, exc)
    except OpsflowError as exc:
        return _failed(ctx, event, step, exc)
    except Exception as exc:  # a bug, or an outside system odder than foreseen: never leave the step running
        log.debug("%s: %s raised", event.id, key, exc_info=True)  # the details may hold personal data
        problem = OpsflowError(
            f"unexpected {type(exc).__name__} (a bug in opsflow: run `opsflow --debug run-due` "
            "to see the details, and report it)"
        )
        return _failed(ctx, event, step, problem)
    with ctx.store.read() as conn:
        state = db.get_step(conn, event.id, key)
    if state["state"] == "running":  # the action did not record its own outcome
        with ctx.store.begin() as conn:
            db.finish_step(conn, event.id, key, "done", ctx.now)
        final = "done"
    else:
        final = state["state"]
    if final == "planned":  # deferred messages or a stop: try again later, until the step's deadline
        if ctx.now >= _deadline(step, event) and not ctx.should_stop():
            error = f"{state['last_error'] or 'not finished'} by its deadline"
            with ctx.store.begin() as conn:
                db.finish_step(conn, event.id, key, "failed", ctx.now, error)
            _alert(ctx, event, key, "failed", error)
            return StepResult(event.id, key, "failed", error)
        retry_at = _retry(ctx, event, step, state["last_error"] or "not finished", not_before=state["retry_at"])
        return StepResult(event.id, key, "retry", state["last_error"] or "", retry_at=retry_at)
    if final == "failed":
        _alert(ctx, event, key, "failed", state["last_error"] or "")
    return StepResult(event.id, key, final, message)


def _waiting_for(ctx: RunContext, step):
    """The first step this one waits for that is not finished yet (None when it may run)."""
    if not may_wait(step["kind"], step["after_key"]):
        return None
    with ctx.store.read() as conn:
        steps = {s["key"]: s for s in db.list_steps(conn, [step["event_id"]])}
    return first_unfinished(step, steps)


def _blocked(ctx: RunContext, event: Event, step, before) -> StepResult:
    """A step whose prerequisite failed waits for a person: say so in `status`, alert staff once."""
    why = f"waits for {before['key']}, which failed: {before['last_error'] or 'see its error'}"
    if step["last_error"] != why and not ctx.dry_run:
        with ctx.store.begin() as conn:
            db.update_step(conn, step["id"], {"last_error": why}, ctx.now)
    if step["alerted_at"] is None and not ctx.dry_run:
        _alert(ctx, event, step["key"], "blocked", why, ledger_key=f"{step['key']}.blocked")
    return StepResult(event.id, step["key"], "blocked", why)


def _is_too_late(step, event: Event, now: datetime) -> bool:
    return step["kind"] in REMINDER_KINDS and now >= event.start_at


def _failed(ctx: RunContext, event: Event, step, exc: OpsflowError) -> StepResult:
    transient = isinstance(exc, (MailError, Busy)) or (isinstance(exc, ZoomError) and exc.is_transient)
    if transient and ctx.now < _deadline(step, event):
        retry_at = _retry(ctx, event, step, str(exc))
        return StepResult(event.id, step["key"], "retry", str(exc), retry_at=retry_at)
    with ctx.store.begin() as conn:
        db.finish_step(conn, event.id, step["key"], "failed", ctx.now, str(exc))
    _alert(ctx, event, step["key"], "failed", str(exc))
    return StepResult(event.id, step["key"], "failed", str(exc))


def _stopped(ctx: RunContext, event: Event, step, exc: BatchStopped) -> StepResult:
    """The mail server broke off a batch: the rest are retried later; a message in doubt is a person's
    to decide (`opsflow deliveries resolve`), so staff hear of it at once."""
    result = _failed(ctx, event, step, exc)
    if exc.report.ambiguous and result.state == "retry":
        _alert(
            ctx,
            event,
            step["key"],
            "stopped",
            f"{exc}; see `opsflow deliveries {event.id} --state ambiguous`",
            ledger_key=f"{step['key']}.stopped",
        )
        result.needs_attention = True
    return result


def _deadline(step, event: Event) -> datetime:
    """Until when a step may be retried: a mail to registrants until the seminar starts (it is useful
    until then, even when found late); any other step for a time per kind after it was due."""
    if step["kind"] in REMINDER_KINDS:
        if step["kind"] in DEADLINES:
            return min(event.start_at, step["due_at"] + DEADLINES[step["kind"]])
        return event.start_at
    if step["kind"] == "recording.fetch" and event.spec.recording is not None:  # its own last look
        return event.resolve(event.spec.recording.until, "recording.until")
    return step["due_at"] + DEADLINES.get(step["kind"], DEFAULT_DEADLINE)


def _retry(ctx: RunContext, event: Event, step, error: str, not_before: datetime | None = None) -> datetime:
    """Put the step back to `planned` with its next attempt; returns that time in the seminar's zone."""
    attempts = max(step["attempts"], 0) + 1
    # stopped by a shutdown: free at once for the next runner; a failure: back off. Counted from now,
    # not from when the run began: the attempt that failed may itself have taken minutes.
    wait = timedelta(0) if ctx.should_stop() else min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)
    current = ctx.current()
    retry_at = _whole_second(max(current + wait, not_before or current))  # e.g. the first deferred message
    if step["kind"] == "recording.fetch":  # the last look is at `[recording] until`, not an hour past it
        retry_at = min(retry_at, _deadline(step, event))
    with ctx.store.begin() as conn:
        db.update_step(
            conn,
            step["id"],
            {"state": "planned", "retry_at": retry_at, "last_error": error, "lease_owner": None, "lease_until": None},
            ctx.now,
        )
    return event.local(retry_at)


def _whole_second(moment: datetime) -> datetime:
    """`moment` rounded up to the second: the time shown is then the time of the attempt, never before it."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def _alert(ctx: RunContext, event: Event, key: str, state: str, error: str, *, ledger_key: str | None = None) -> None:
    """One alert to staff per failed, missed or blocked step: a mail to the `[summary] to` list, and a post
    to the staff chat when OPSFLOW_STAFF_WEBHOOK_URL is set; the ledger keeps each to one per `ledger_key`
    (the step's key by default). `alerted_at` is set once either reached staff."""
    from opsflow.after.chat import step_label
    from opsflow.after.staff_chat import post_alert

    local = event.local(ctx.now)
    alert = {
        "event_title": event.title,
        "step": key,
        "step_label": step_label(key, event.spec.event.language),
        "state": state,
        "error": error,
        "due_text": f"{local:%Y-%m-%d %H:%M} {local.tzname()}",
        "hint": f"see `opsflow status {event.id}`; after fixing the cause, run the step by hand "
        f"(for a mail: `opsflow send {event.id} ...`)",
    }
    reached = False
    if event.spec.summary is not None and event.spec.summary.to:
        from opsflow.mail.send import send_mail

        try:
            send_mail(ctx.store, ctx.settings, event, f"alert:{ledger_key or key}", ctx.now, sync=False, alert=alert)
            reached = True
        except OpsflowError as exc:  # the alert itself could not go out: the log and `status` still show it
            log.error("%s: the alert for %s could not be sent: %s", event.id, key, exc)
    try:
        posted = post_alert(ctx.store, ctx.settings, event, ledger_key or key, alert, ctx.now)
    except OpsflowError as exc:  # a bad OPSFLOW_STAFF_WEBHOOK_* setting, or the database
        log.error("%s: the alert for %s could not be posted to the staff chat: %s", event.id, key, exc)
    else:
        reached = reached or posted.outcome in ("posted", "already")
        if posted.has_failed:  # logged by post_alert; `status` shows it on the step too
            _note_on_step(ctx, event, key, f"staff chat alert not posted: {posted.detail}")
    if reached:
        with ctx.store.begin() as conn:
            step = db.get_step(conn, event.id, key)
            db.update_step(conn, step["id"], {"alerted_at": ctx.now}, ctx.now)


def _note_on_step(ctx: RunContext, event: Event, key: str, note: str) -> None:
    """Add `note` to the last error of a failed or missed step (what `status` lists under Needs attention)."""
    with ctx.store.begin() as conn:
        step = db.get_step(conn, event.id, key)
        if step is not None and step["state"] in ("failed", "missed") and note not in (step["last_error"] or ""):
            error = f"{step['last_error']} ({note})" if step["last_error"] else note
            db.update_step(conn, step["id"], {"last_error": error}, ctx.now)


def _describe_dry_run(ctx: RunContext, event: Event, step) -> str:
    kind = step["kind"]
    if kind.startswith("speakers."):
        from opsflow.mail.speakers import addressed_speakers

        return f"would mail {len(addressed_speakers(event))} speakers"
    if kind.startswith("mail.") or kind in ("survey.remind", "summary.staff"):
        from opsflow.mail.send import planned_recipients

        try:
            text = f"would mail {len(planned_recipients(ctx.store, event, step['key'], ctx.now))} people"
        except OpsflowError as exc:
            return f"would try, but: {exc}"
        return text + _chat_too(ctx) if kind == "summary.staff" else text
    return f"would run {kind}"


def _chat_too(ctx: RunContext) -> str:
    """`, and post to the staff chat` when OPSFLOW_STAFF_WEBHOOK_URL is set (what a summary step also does)."""
    try:
        return ", and post to the staff chat" if ctx.settings.staff_webhook_url else ""
    except OpsflowError as exc:  # a bad setting: the real run reports it
        return f", and post to the staff chat, but: {exc}"


# --- the actions, one per step kind ---------------------------------------------------------


def _zoom_create(ctx: RunContext, event: Event, step) -> str:
    from opsflow.zoom.meeting import create_meeting

    outcome = create_meeting(ctx.store, ctx.make_zoom(), event, ctx.now, owner=ctx.owner)
    if outcome.action == "busy":
        raise Busy(outcome.message)
    return outcome.message


def _registrants_sync(ctx: RunContext, event: Event, step) -> str:
    from opsflow.registrants import sync_registrants

    imported, synced = sync_registrants(ctx.store, ctx.make_zoom, event, ctx.now)
    parts = []
    if imported:
        parts.append(f"{len(imported.added)} added, {len(imported.cancelled)} cancelled")
    if synced:
        parts.append(f"{synced.registered} registered with Zoom")
        parts += synced.warnings  # a language answer not understood: the organizer sees whose
    return "; ".join(parts)


def _mail(ctx: RunContext, event: Event, step) -> str:
    from opsflow.mail.send import send_mail

    report = send_mail(
        ctx.store, ctx.settings, event, step["key"], ctx.now, make_zoom=ctx.make_zoom, should_stop=ctx.should_stop
    )
    return f"{len(report.sent)} sent"


def _report_fetch(ctx: RunContext, event: Event, step) -> str:
    from opsflow.after.report import fetch_report

    result = fetch_report(ctx.store, ctx.make_zoom(), event, ctx.now)
    return f"{result.people} people, {result.attendees} attended"


def _survey_send(ctx: RunContext, event: Event, step) -> str:
    from opsflow.after.survey import send_survey

    reports = send_survey(ctx.store, ctx.settings, event, ctx.now, should_stop=ctx.should_stop)
    return ", ".join(f"{r.message_key}: {len(r.sent)} sent" for r in reports)


def _survey_remind(ctx: RunContext, event: Event, step) -> str:
    from opsflow.mail.send import send_mail

    report = send_mail(
        ctx.store, ctx.settings, event, "survey_reminder", ctx.now, sync=False, should_stop=ctx.should_stop
    )
    return f"{len(report.sent)} sent"


def _speakers(ctx: RunContext, event: Event, step) -> str:
    """A speaker mail ([speakers]); for a webinar the request first makes the speakers panelists (a Zoom
    failure there is retried like any Zoom step, and nothing is mailed until it is done)."""
    from opsflow.mail.speakers import send_speakers

    done = send_speakers(
        ctx.store, ctx.settings, event, step["key"], ctx.now, make_zoom=ctx.make_zoom, should_stop=ctx.should_stop
    )
    message = f"{len(done.report.sent)} sent"
    return f"{message}; {done.panelists.text()}" if done.panelists is not None else message


def _recording_fetch(ctx: RunContext, event: Event, step) -> str:
    """Store the recording's link; while Zoom has none, retried (transient) until `[recording] until`.
    Then, or on any error that retrying does not mend, the step is missed: the survey goes without the link."""
    from opsflow.after.recording import fetch_recording_link, missed_message
    from opsflow.core.errors import RecordingNotReady

    until = _deadline(step, event)
    try:
        link = fetch_recording_link(ctx.store, ctx.make_zoom, event, ctx.now)
    except OpsflowError as exc:
        transient = isinstance(exc, Busy) or (isinstance(exc, ZoomError) and exc.is_transient)
        if transient and ctx.now < until:
            if isinstance(exc, RecordingNotReady):  # the log line says what the step waits for
                raise RecordingNotReady(f"waits for Zoom's recording: {exc}", code=exc.code) from None
            raise
        message = missed_message(event, until, str(exc))
        with ctx.store.begin() as conn:
            db.finish_step(conn, event.id, step["key"], "missed", ctx.now, message)
        _alert(ctx, event, step["key"], "missed", message)
        return message
    return f"link {link.action} (`opsflow recording show {event.id}` shows it)"


def _summary(ctx: RunContext, event: Event, step) -> str:
    """The summary mail, then its post to the staff chat (when set). A chat that fails for a while puts
    the step back (the mail, in the ledger, is not sent again) until its deadline; then the step fails."""
    from opsflow.after.staff_chat import post_summary
    from opsflow.mail.send import send_mail

    report = send_mail(ctx.store, ctx.settings, event, step["key"], ctx.now, sync=False)
    is_early = ctx.now < _deadline(step, event)
    posted = post_summary(ctx.store, ctx.settings, event, step["key"], ctx.now, keep_transient=is_early)
    if posted.outcome == "failed":
        raise ChatError(posted.line())
    if posted.outcome == "deferred":
        with ctx.store.begin() as conn:
            current = db.get_step(conn, event.id, step["key"])
            if current["state"] != "failed":  # a refused staff address says more than the chat
                db.update_step(conn, step["id"], {"state": "planned", "last_error": posted.line()}, ctx.now)
    said = "" if posted.outcome == "off" else f"; {posted.line()}"
    return f"sent to {len(report.sent)}{said}"


ACTIONS: dict[str, Callable[[RunContext, Event, Any], str]] = {
    "zoom.create": _zoom_create,
    "registrants.sync": _registrants_sync,
    "mail.invitation": _mail,
    "mail.confirmation": _mail,  # 受付完了: to the registrants seen since it last ran
    "mail.reminder": _mail,
    "mail.change": _mail,
    "mail.cancellation": _mail,
    "report.fetch": _report_fetch,
    "survey.send": _survey_send,
    "survey.remind": _survey_remind,
    "summary.staff": _summary,
    "recording.fetch": _recording_fetch,
    "speakers.request": _speakers,
    "speakers.rehearsal": _speakers,
    "speakers.materials": _speakers,
    "speakers.thanks": _speakers,
}

"""Event -> the steps of its lifecycle, each with a due time. Pure: no I/O, `now` is passed in.

The default lifecycle is DESIGN.md's; the job file overrides times, removes steps (`enabled = false`,
`mail = []`) and adds mails (more `[[mail]]` tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from opsflow.core.errors import JobFileError, JobFileErrors
from opsflow.core.jobspec import Event

ON_APPLY = "on apply"
NIGHT_STARTS = time(20, 0)
DAY_STARTS = time(8, 0)


@dataclass(frozen=True)
class Step:
    """One planned step. `due_at` is aware UTC, or None for a step that runs as soon as it is applied."""

    key: str  # unique within the event: "mail.reminder.1d"
    kind: str  # what the runner does: "mail.reminder"
    due_at: datetime | None
    at: str  # the expression it came from, for people
    source: str = ""  # the job-file key it came from, for errors ("mail[2].at")
    after: str | None = None  # runs only once this step is done
    is_send: bool = False  # mails people outside the team: checked for nights, weekends, the past
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanWarning:
    """Something an organizer should look at before applying; not an error."""

    event_id: str
    step_key: str
    message: str


def plan_event(event: Event) -> list[Step]:
    """The steps of `event` in due order. Raises JobFileError when a step falls on the wrong side
    of the seminar (a reminder after the start, a survey before the end)."""
    spec = event.spec
    steps: list[Step] = []
    if spec.zoom is not None:
        steps.append(Step("zoom.create", "zoom.create", None, ON_APPLY, "zoom"))
    if spec.registrants is not None or (spec.zoom is not None and spec.zoom.registration):
        needs_meeting = spec.zoom is not None and spec.zoom.registration  # personal links need the meeting
        steps.append(
            Step(
                "registrants.sync",
                "registrants.sync",
                None,
                ON_APPLY,
                "registrants",
                after="zoom.create" if needs_meeting else None,
            )
        )

    for index, mail in enumerate(event.mail, start=1):
        source = f"mail[{index}].at" if spec.mail is not None else "mail"
        due = event.resolve(mail.at, source)
        if due > event.start_at:
            raise event.error(
                source,
                f"{mail.kind} {mail.at!r} is due {_local(event, due)}, after the seminar "
                f"starts ({_local(event, event.start_at)}); it must be due before the start",
            )
        if mail.kind == "invitation":
            key = f"mail.invitation.{mail.name}" if mail.name else "mail.invitation"
        else:
            key = f"mail.reminder.{mail.name or _label(mail.at)}"
        if any(s.key == key for s in steps):
            raise event.error(
                f"mail[{index}]", f'two mails share the step key {key!r}: give one of them a `name = "..."` of its own'
            )
        steps.append(Step(key, f"mail.{mail.kind}", due, mail.at, source, is_send=True, params={"template": mail.kind}))

    if confirms(event):  # 受付完了: runs after each registrant sync that finds someone new (see needs.py)
        steps.append(Step("mail.confirmation", "mail.confirmation", None, ON_APPLY, "event.confirmation", is_send=True))
    steps += _speaker_steps(event, before_end=True)

    report_key = None
    if spec.zoom is not None and spec.report.enabled:
        due = _after_end(event, spec.report.at, "report.at", "report fetch")
        steps.append(Step("report.fetch", "report.fetch", due, spec.report.at, "report.at"))
        report_key = "report.fetch"

    recording_key = None
    if spec.zoom is not None and spec.recording is not None:
        due = _after_end(event, spec.recording.at, "recording.at", "recording fetch")
        until = _after_end(event, spec.recording.until, "recording.until", "recording's last look")
        if until <= due:
            raise event.error(
                "recording.until",
                f"the last look for the recording ({_local(event, until)}) must come after the first "
                f"(recording.at, {_local(event, due)})",
            )
        steps.append(Step("recording.fetch", "recording.fetch", due, spec.recording.at, "recording.at"))
        recording_key = "recording.fetch" if spec.recording.survey_waits else None

    remind_key = None
    if spec.survey is not None:
        due = _after_end(event, spec.survey.at, "survey.at", "survey")
        survey_after = ",".join(k for k in (report_key, recording_key) if k) or None
        steps.append(
            Step("survey.send", "survey.send", due, spec.survey.at, "survey.at", after=survey_after, is_send=True)
        )
        if spec.survey.remind:
            remind_due = _after_end(event, spec.survey.remind_at, "survey.remind_at", "survey reminder")
            if remind_due <= due:
                raise event.error(
                    "survey.remind_at",
                    f"the survey reminder ({_local(event, remind_due)}) must "
                    f"come after the survey itself ({_local(event, due)})",
                )
            steps.append(
                Step(
                    "survey.remind",
                    "survey.remind",
                    remind_due,
                    spec.survey.remind_at,
                    "survey.remind_at",
                    after="survey.send",
                    is_send=True,
                )
            )
            remind_key = "survey.remind"

    steps += _speaker_steps(event, before_end=False, report_key=report_key)

    if spec.summary is not None and spec.summary.enabled:
        by_key = {s.key: s for s in steps}
        if report_key:
            first = by_key[report_key]
            steps.append(
                Step("summary.staff", "summary.staff", first.due_at, f"after {report_key}", "summary", after=report_key)
            )
        else:
            due = event.resolve("end + 30m", "summary")
            steps.append(Step("summary.staff", "summary.staff", due, "end + 30m", "summary"))
        if remind_key:
            steps.append(
                Step(
                    "summary.staff.survey",
                    "summary.staff",
                    by_key[remind_key].due_at,
                    f"after {remind_key}",
                    "summary",
                    after=remind_key,
                )
            )

    return sorted(steps, key=lambda s: (s.due_at is not None, s.due_at or event.start_at))


def confirms(event: Event) -> bool:
    """Whether newly seen registrants get `mail.confirmation`: as `[event] confirmation` says, else
    whenever there are registrants and Zoom does not mail its own confirmation (`[zoom] registration`
    with `zoom_emails = true`)."""
    spec = event.spec
    zoom_registers = spec.zoom is not None and spec.zoom.registration
    if spec.registrants is None and not zoom_registers:
        return False
    if spec.event.confirmation is not None:
        return spec.event.confirmation
    return not (zoom_registers and spec.zoom is not None and spec.zoom.zoom_emails)


def _speaker_steps(event: Event, *, before_end: bool, report_key: str | None = None) -> list[Step]:
    """The speakers' mails ([speakers]), to each speaker with an email: the request (as soon as the
    meeting exists, or at `request_at`), the rehearsal notice and the materials reminder (only when their
    times are given) before the seminar; `before_end=False` gives the thank-you after it."""
    spec = event.spec
    speakers = spec.speakers
    if not speakers.enabled or not any(s.email for s in spec.event.speakers):
        return []

    def step(name: str, due: datetime | None, at: str, source: str, after: str | None) -> Step:
        return Step(f"speakers.{name}", f"speakers.{name}", due, at, source, after=after, is_send=True)

    if not before_end:
        if not speakers.thanks:
            return []
        due = _after_end(event, speakers.thanks_at, "speakers.thanks_at", "speakers' thank-you")
        return [step("thanks", due, speakers.thanks_at, "speakers.thanks_at", report_key)]
    meeting = "zoom.create" if spec.zoom is not None else None
    if speakers.request_at is None:
        steps = [step("request", None, ON_APPLY, "speakers", meeting)]
    else:
        due = _before_start(event, speakers.request_at, "speakers.request_at", "speakers' request")
        steps = [step("request", due, speakers.request_at, "speakers.request_at", meeting)]
    if speakers.rehearsal is not None:
        held = _before_start(event, speakers.rehearsal, "speakers.rehearsal", "rehearsal")
        notice = _before(event, speakers.rehearsal_notice_at, "speakers.rehearsal_notice_at", held, "the rehearsal")
        steps.append(step("rehearsal", notice, speakers.rehearsal_notice_at, "speakers.rehearsal_notice_at", meeting))
    if speakers.materials_due is not None:
        due = _before_start(event, speakers.materials_due, "speakers.materials_due", "materials deadline")
        remind = _before(
            event, speakers.materials_remind_at, "speakers.materials_remind_at", due, "the materials deadline"
        )
        steps.append(step("materials", remind, speakers.materials_remind_at, "speakers.materials_remind_at", None))
    return steps


def _before_start(event: Event, expr: str, source: str, what: str) -> datetime:
    due = event.resolve(expr, source)
    if due > event.start_at:
        raise event.error(
            source,
            f"the {what} {expr!r} is due {_local(event, due)}, after the seminar starts "
            f"({_local(event, event.start_at)}); it must be before the start",
        )
    return due


def _before(event: Event, expr: str, source: str, limit: datetime, what: str) -> datetime:
    due = event.resolve(expr, source)
    if due >= limit:
        raise event.error(
            source,
            f"{expr!r} is {_local(event, due)}, not before {what} ({_local(event, limit)}): "
            "a notice must come before what it announces",
        )
    return due


def check_plan(event: Event, steps: list[Step], now: datetime) -> list[PlanWarning]:
    """Warnings for sends due at night (outside 08:00-20:00 local), on a weekend or holiday, or in the past."""
    warnings = []
    due_by_key = {s.key: s.due_at for s in steps}
    for step in steps:
        if step.due_at is None:
            continue
        befores = [due_by_key.get(key) for key in (step.after or "").split(",") if key]
        before = max((b for b in befores if b is not None), default=None)
        if before is not None and before > step.due_at:
            warnings.append(
                PlanWarning(
                    event.id,
                    step.key,
                    f"is due {_local(event, step.due_at)} but waits for {step.after} (due {_local(event, before)})",
                )
            )
        local = step.due_at.astimezone(event.tz)
        when = _local(event, step.due_at)
        if step.due_at < now:
            warnings.append(PlanWarning(event.id, step.key, f"is due {when}, which is already past"))
        if not step.is_send:
            continue
        if local.time() < DAY_STARTS or local.time() > NIGHT_STARTS:
            warnings.append(PlanWarning(event.id, step.key, f"sends at night ({when})"))
        holiday = event.calendar.holiday_name(local.date())
        if holiday:
            warnings.append(PlanWarning(event.id, step.key, f"sends on a public holiday, {holiday} ({when})"))
        elif local.weekday() >= 5:
            warnings.append(PlanWarning(event.id, step.key, f"sends on a weekend ({when})"))
    return warnings


def _after_end(event: Event, expr: str, source: str, what: str) -> datetime:
    due = event.resolve(expr, source)
    if due < event.end_at:
        raise event.error(
            source,
            f"the {what} {expr!r} is due {_local(event, due)}, before the seminar ends "
            f"({_local(event, event.end_at)}); it must be due at or after the end",
        )
    return due


def _label(text: str) -> str:
    """The key suffix of a reminder: "1d" for `start - 1d`; the anchor is spelled out otherwise (`end-2h`)."""
    from opsflow.core.timeexpr import parse

    expr = parse(text)
    if expr.anchor is None or (expr.anchor == "start" and (expr.sign < 0 or not expr.terms)):
        return expr.label()
    return f"{expr.anchor}{'-' if expr.sign < 0 else '+'}{expr.label()}"


def _local(event: Event, moment: datetime) -> str:
    local = moment.astimezone(event.tz)
    return f"{local:%Y-%m-%d %a %H:%M} {local.tzname()}"


def plan_events(events: list[Event]) -> list[tuple[Event, list[Step]]]:
    """Plan every event; a misplaced step in any of them is reported together with the others'."""
    planned, problems = [], []
    for event in events:
        try:
            planned.append((event, plan_event(event)))
        except JobFileError as exc:
            problems.append(exc)
    if problems:
        raise JobFileErrors(problems)
    return planned

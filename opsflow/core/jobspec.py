"""Load and validate job files (`jobs/*.toml`) into `Event` objects.

Every error names the file, the key path (`mail[2].at`, 1-based like the order of `[[mail]]` tables)
and, where it can be found, the line. Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from opsflow.core import timeexpr
from opsflow.core.errors import JobFileError, JobFileErrors, TimeExprError
from opsflow.core.jobtext import find_line, key_path, locate_keys, syntax_error, too_deep, too_deep_line

EMAIL_RE = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def _email_address(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_email_address)]


class _Section(BaseModel):
    # strict: TOML has real types, so "yes" is not a boolean and true is not a number of minutes
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Speaker(_Section):
    name: str = Field(min_length=1)
    affiliation: str = ""
    talk: str = ""
    position: str = ""
    email: EmailAddress | None = None  # the speaker's own mails ([speakers]) go here; none without it
    comment_columns: list[str] = []  # the survey export's columns about this talk (default: [survey]'s)


class EventSection(_Section):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=100)
    series: str = ""
    title: str = Field(min_length=1)
    start: datetime
    duration: str | int
    timezone: str = "Asia/Tokyo"
    language: Literal["ja", "en"] = "ja"
    holidays: str = "JP"
    description: str = ""
    templates: str | None = None  # this seminar's own mail templates, relative to the job file
    cancelled: bool = False
    notify_changes: bool = True  # after a move or a cancellation, mail those already invited
    speakers: list[Speaker] = []
    # mail.confirmation (受付完了) to each newly seen registrant; None: on unless Zoom sends its own
    # registration mail ([zoom] zoom_emails = true)
    confirmation: bool | None = None


class ZoomSection(_Section):
    kind: Literal["meeting", "webinar"] = "meeting"
    host: str = "me"
    registration: bool = False
    approval: Literal["automatic", "manual"] = "automatic"
    zoom_emails: bool = False  # Zoom's own registration emails; off because opsflow sends the mail
    alternative_hosts: list[EmailAddress] = []
    delete_on_cancel: bool = True


class ColumnsSection(_Section):
    """Which CSV column holds what, when the defaults (氏名, メールアドレス, 所属, ...) do not find it."""

    email: str | None = None
    name: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    organization: str | None = None
    department: str | None = None
    language: str | None = None  # ja or en per person (blank: the seminar's language)


class RegistrantsSection(_Section):
    csv: str
    encoding: str | None = None
    columns: ColumnsSection = ColumnsSection()


class MailEntry(_Section):
    kind: Literal["invitation", "reminder"]
    at: str
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class ReportSection(_Section):
    enabled: bool = True
    at: str = "end + 30m"
    attended_minutes: int = Field(default=10, gt=0)


SURVEY_PLACEHOLDERS = ("email", "name", "token")  # filled in per person by `context.survey_url`


class SurveySection(_Section):
    url: str
    at: str = "end + 1h"
    remind: bool = True
    remind_at: str = "end + 3bd @ 10:00"
    followup: bool = True  # mail registrants who did not attend
    followup_survey: bool = True  # ...and include the survey link in that mail
    materials_url: str | None = None
    recording_url: str | None = None
    zoom_survey: bool = False  # also show the link as the meeting's post-meeting survey on Zoom
    comment_columns: list[str] = []  # the survey export's free-text columns, for the staff summary

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://forms.example.jp/f/abc?email={email}")
        for name in re.findall(r"\{([^{}]*)\}", value):
            if name not in SURVEY_PLACEHOLDERS:
                close = difflib.get_close_matches(name, SURVEY_PLACEHOLDERS, n=1)
                hint = f"; did you mean {{{close[0]}}}?" if close else ""
                raise ValueError(
                    f"unknown placeholder {{{name}}}: the link can hold {{email}}, {{name}} and "
                    f"{{token}}, filled in for each person{hint}"
                )
        return value


class SpeakersSection(_Section):
    """The speakers' own mails, to each `[[event.speakers]]` with an `email`. A mail whose time is not
    given is not sent, except the request and the thank-you, which have defaults."""

    enabled: bool = True
    request_at: str | None = None  # None: as soon as the seminar is applied (after its meeting exists)
    rehearsal: str | None = None  # when the rehearsal takes place; no rehearsal notice without it
    rehearsal_url: str | None = None  # its own meeting link, when not the seminar's
    rehearsal_notice_at: str = "start - 10d @ 10:00"
    materials_due: str | None = None  # the deadline for slides; no reminder without it
    materials_remind_at: str = "start - 10bd @ 10:00"
    thanks: bool = True
    thanks_at: str = "end + 3bd @ 10:00"

    @field_validator("rehearsal_url")
    @classmethod
    def _rehearsal_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://zoom.us/j/81234567890")
        return value


class RecordingSection(_Section):
    """The meeting's cloud recording: recorded by Zoom, its share link fetched after the event and put in
    the survey mail and the follow-up."""

    at: str = "end + 30m"  # first look; Zoom needs about as long as the meeting to process it
    until: str = "end + 3h"  # still none then: the step is missed, staff are alerted, the survey goes without it
    survey_waits: bool = True  # the survey (and follow-up) wait for the link, up to `until`


class SummarySection(_Section):
    enabled: bool = True
    to: list[EmailAddress] = Field(min_length=1)


class JobFile(_Section):
    """The whole job file, as written. Defaults fill in the standard lifecycle."""

    event: EventSection
    zoom: ZoomSection | None = None
    registrants: RegistrantsSection | None = None
    mail: list[MailEntry] | None = None
    report: ReportSection = ReportSection()
    survey: SurveySection | None = None
    summary: SummarySection | None = None
    speakers: SpeakersSection = SpeakersSection()
    recording: RecordingSection | None = None


DEFAULT_MAIL = (
    MailEntry(kind="invitation", at="start - 14d @ 10:00"),
    MailEntry(kind="reminder", at="start - 1d"),
    MailEntry(kind="reminder", at="start - 1h"),
)


@dataclass(frozen=True)
class Event:
    """One seminar, loaded from its job file, with times resolved. Times are aware, in UTC."""

    spec: JobFile
    path: Path
    start_at: datetime
    end_at: datetime
    tz: ZoneInfo
    calendar: timeexpr.BusinessCalendar = field(repr=False, compare=False)
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.spec.event.id

    @property
    def title(self) -> str:
        return self.spec.event.title

    @property
    def mail(self) -> tuple[MailEntry, ...]:
        return DEFAULT_MAIL if self.spec.mail is None else tuple(self.spec.mail)

    def spec_json(self) -> str:
        """The validated job as canonical JSON: what the store keeps and compares."""
        return json.dumps(self.spec.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)

    def spec_hash(self) -> str:
        return hashlib.sha256(self.spec_json().encode()).hexdigest()[:16]

    def error(self, key: str, message: str) -> JobFileError:
        """A JobFileError about `key` in this event's file, with its line when known."""
        return JobFileError(message, path=str(self.path), key=key, line=find_line(self.lines, key))

    def resolve(self, expr_text: str, key: str) -> datetime:
        """Resolve a time expression of this event, or raise a JobFileError naming `key`."""
        try:
            expr = timeexpr.parse(expr_text)
            return timeexpr.resolve(expr, start=self.start_at, end=self.end_at, tz=self.tz, calendar=self.calendar)
        except TimeExprError as exc:
            raise self.error(key, str(exc)) from None

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


def load_jobs(paths: list[Path]) -> list[Event]:
    """Load several job files; report every problem at once, including an event id used twice."""
    events, problems = read_jobs(paths)
    if problems:
        raise JobFileErrors(problems)
    return events


def read_jobs(paths: list[Path]) -> tuple[list[Event], list[JobFileError]]:
    """Load several job files, keeping the good ones: (events, the problems of every other file).

    One bad file does not stop the others (`opsflow apply` applies those and reports the rest). A
    second file with an event id already used is a problem of that second file.
    """
    events: list[Event] = []
    problems: list[JobFileError] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            event = load_job(path)
        except JobFileErrors as exc:
            problems.extend(exc.errors)
            continue
        if event.id in seen:
            problems.append(
                event.error(
                    "event.id",
                    f"event id {event.id!r} is already used by {seen[event.id]}; every seminar needs its own id",
                )
            )
            continue
        seen[event.id] = path
        events.append(event)
    return events, problems


def job_paths(jobs_dir: Path) -> list[Path]:
    """Every job file in the jobs folder, sorted by name."""
    if not jobs_dir.is_dir():
        raise JobFileErrors(
            [
                JobFileError(
                    "jobs folder not found: create it, set OPSFLOW_JOBS_DIR, or name job files on the command line",
                    path=str(jobs_dir),
                )
            ]
        )
    return sorted(jobs_dir.glob("*.toml"))


def load_job(path: Path) -> Event:
    """Read, parse and validate one job file. Raises JobFileErrors listing every problem found."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise JobFileErrors([JobFileError("file not found: check the path", path=name)]) from None
    except OSError as exc:
        raise JobFileErrors([JobFileError(f"cannot read the file: {exc.strerror or exc}", path=name)]) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # Notepad's byte-order mark is no error
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise JobFileErrors(
            [JobFileError("cannot read the file: not UTF-8 text: save it as UTF-8", path=name, line=line)]
        ) from None
    if not text.strip():
        raise JobFileErrors(
            [JobFileError(f"the file is empty: write at least an [event] table (see {EXAMPLE_JOB})", path=name, line=1)]
        )
    deep = too_deep_line(text)
    if deep is not None:
        raise JobFileErrors([too_deep(name, deep)])
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise JobFileErrors([syntax_error(name, text, str(exc))]) from None
    except RecursionError:  # tomllib recurses for each [ or {; the depth check above should prevent it
        raise JobFileErrors([too_deep(name, None)]) from None
    lines = locate_keys(text)
    try:
        spec = JobFile.model_validate(table)
    except ValidationError as exc:
        problems: dict[str, JobFileError] = {}
        for err in exc.errors():  # a union reports once per member: keep one problem per key
            problem = _pydantic_error(name, lines, err)
            problems.setdefault(problem.key or "", problem)
        raise JobFileErrors(list(problems.values())) from None
    return _resolve_event(spec, path, lines)


def event_from_json(spec_json: str, path: str) -> Event:
    """Rebuild an applied event from the JSON the store keeps (files are not checked again)."""
    return _resolve_event(JobFile.model_validate_json(spec_json, strict=False), Path(path), {}, check_files=False)


def _resolve_event(spec: JobFile, path: Path, lines: dict[str, int], *, check_files: bool = True) -> Event:
    name = str(path)
    problems: list[JobFileError] = []

    def problem(key: str, message: str) -> None:
        problems.append(JobFileError(message, path=name, key=key, line=find_line(lines, key)))

    ev = spec.event
    tz = ZoneInfo("UTC")
    try:
        if not ev.timezone or ev.timezone.startswith(("/", ".")):
            raise ValueError
        tz = ZoneInfo(ev.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(ev.timezone, sorted(available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (use an IANA name such as 'Asia/Tokyo')"
        problem("event.timezone", f"unknown time zone {ev.timezone!r}{hint}")
    start = ev.start
    if start.tzinfo is None or start.utcoffset() is None:
        problem(
            "event.start", f"{start.isoformat()} has no UTC offset: write it with one, e.g. {start.isoformat()}+09:00"
        )
        start = start.replace(tzinfo=UTC)
    try:
        start.astimezone(UTC) + timedelta(days=400)  # room for the plan's steps around it
    except OverflowError:
        problem("event.start", f"{start.isoformat()} is too near the edge of the calendar; write a real date")
        start = datetime(2000, 1, 1, tzinfo=UTC)
    duration = timedelta(minutes=90)
    try:
        duration = timeexpr.parse_duration(ev.duration)
    except Exception as exc:  # TimeExprError; parse_duration guards its own input types
        problem("event.duration", f"{exc}")
    try:
        calendar = timeexpr.BusinessCalendar(ev.holidays)
        calendar.is_business_day(start.date())  # the calendar loads lazily: check the country now
    except TimeExprError as exc:
        problem("event.holidays", str(exc))
        calendar = timeexpr.BusinessCalendar("JP")
    for key, text in _time_expressions(spec):  # all of them, also of steps this seminar does not plan
        try:
            timeexpr.parse(text)
        except TimeExprError as exc:
            problem(key, str(exc))
    if ev.templates is not None and check_files and not (path.parent / ev.templates).is_dir():
        problem(
            "event.templates",
            f"template folder not found at {path.parent / ev.templates} (the path is "
            "relative to the job file): fix the path, create the folder, or remove the key "
            "to use the usual templates",
        )
    if spec.registrants is not None and check_files:
        csv_path = path.parent / spec.registrants.csv
        if not csv_path.is_file():
            problem(
                "registrants.csv",
                f"registrants CSV not found at {csv_path} (the path is relative "
                "to the job file): fix the path or export the form's CSV there",
            )
    _check_sections(spec, problem, written=any(k == "speakers" or k.startswith("speakers.") for k in lines))
    if problems:
        raise JobFileErrors(problems)
    start_at = start.astimezone(UTC)
    return Event(
        spec=spec, path=path, start_at=start_at, end_at=start_at + duration, tz=tz, calendar=calendar, lines=lines
    )


def _check_sections(spec: JobFile, problem, *, written: bool) -> None:
    """What one table asks of another: the recording needs the Zoom meeting, the speakers' mails an address
    (when the job file has a [speakers] table: `written`)."""
    if spec.recording is not None and spec.zoom is None:
        problem(
            "recording",
            "the recording is Zoom's cloud recording of the meeting: add a [zoom] table, or remove [recording]",
        )
    addressed = [s for s in spec.event.speakers if s.email]
    if written and spec.speakers.enabled and not addressed:
        problem(
            "speakers",
            'no speaker has an email, so nobody would get the speakers\' mails: add email = "..." to '
            "each [[event.speakers]], or remove the [speakers] table",
        )
    seen: dict[str, int] = {}
    for index, speaker in enumerate(spec.event.speakers, start=1):
        if speaker.email is None:
            continue
        first = seen.setdefault(speaker.email.lower(), index)
        if first != index:
            problem(
                f"event.speakers[{index}].email",
                f"{speaker.email} is also the email of event.speakers[{first}]: each speaker gets their own mails, "
                "so give each their own address",
            )
        if speaker.comment_columns and spec.survey is None:
            problem(
                f"event.speakers[{index}].comment_columns",
                "comments about a talk come from the survey: add a [survey] table, or remove comment_columns",
            )


def _time_expressions(spec: JobFile) -> list[tuple[str, str]]:
    """(key, text) of every `at` of the job file."""
    found = [(f"mail[{i}].at", m.at) for i, m in enumerate(spec.mail or (), start=1)]
    found.append(("report.at", spec.report.at))
    if spec.survey is not None:
        found += [("survey.at", spec.survey.at), ("survey.remind_at", spec.survey.remind_at)]
    speakers = spec.speakers
    found += [(f"speakers.{key}", text) for key, text in _speaker_times(speakers)]
    if spec.recording is not None:
        found += [("recording.at", spec.recording.at), ("recording.until", spec.recording.until)]
    return found


def _speaker_times(speakers: SpeakersSection) -> list[tuple[str, str]]:
    """(key in [speakers], text) of each time expression written or defaulted there."""
    keys = ("request_at", "rehearsal", "rehearsal_notice_at", "materials_due", "materials_remind_at", "thanks_at")
    return [(key, getattr(speakers, key)) for key in keys if getattr(speakers, key) is not None]


def _pydantic_error(name: str, lines: dict[str, int], err: ErrorDetails) -> JobFileError:
    loc = tuple(err["loc"])
    # A union (`str | int`) reports each member; keep the key, not the member name.
    loc = tuple(p for p in loc if p not in ("str", "int", "list[MailEntry]") and not str(p).startswith("function-"))
    key = key_path(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_suggest(loc)}"
    elif kind == "missing" and len(loc) == 1:
        return JobFileError(
            f"the [{loc[0]}] table is missing: every job file needs one (see {EXAMPLE_JOB})", path=name, key=key, line=1
        )
    elif kind == "missing":
        message = "required key is missing"
    elif kind in _CONSTRAINT_MESSAGES:
        message = _CONSTRAINT_MESSAGES[kind].format(**err.get("ctx", {})) + f" (got {_toml_repr(err.get('input'))})"
    elif kind == "string_pattern_mismatch":
        hint = _NAME_HINT if key.endswith(".name") else _PATTERN_HINT
        message = f"{hint} (got {_toml_repr(err.get('input'))})"
    elif kind in _TYPE_MESSAGES:
        message = _FIELD_HINTS.get(key, _TYPE_MESSAGES[kind]) + f" (got {_toml_repr(err.get('input'))})"
    else:
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        given = err.get("input")
        if not isinstance(given, (dict, list)) and kind != "value_error":
            message += f" (got {_toml_repr(given)})"
    return JobFileError(message, path=name, key=key, line=find_line(lines, key))


_TYPE_MESSAGES = {
    "string_type": "expected text in quotes",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "list_type": "expected a list in [ ]",
    "datetime_type": "expected a datetime with offset, without quotes, e.g. 2027-01-21T18:00:00+09:00",
    "model_type": "expected a table",
}
_CONSTRAINT_MESSAGES = {
    "string_too_short": "must not be empty",
    "string_too_long": "is too long: at most {max_length} characters",
    "too_short": "needs at least {min_length} item",
    "greater_than": "expected a number greater than {gt}",
    "literal_error": "expected {expected}",
}
EXAMPLE_JOB = "jobs/example-seminar.toml"
_FIELD_HINTS = {"event.duration": 'expected a duration like "90m" or "1h30m", or a number of minutes'}
_NAME_HINT = "use lower-case letters a-z, digits, '_' and '-', starting with a letter or digit, e.g. \"early\""
_PATTERN_HINT = (
    "use lower-case letters a-z, digits, '.', '_' and '-', starting with a letter or digit, e.g. \"publitech-2027-01\""
)


def _toml_repr(value: Any) -> str:
    """A value as it is written in TOML, so the message matches what the organizer sees in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _suggest(loc: tuple[Any, ...]) -> str:
    """'; did you mean 'title'?' for a misspelt key, by the fields allowed at that place."""
    model: type[BaseModel] | None = JobFile
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        model = _model_of(annotation)
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    allowed = ", ".join(model.model_fields)
    return f"; did you mean {close[0]!r}?" if close else f" (allowed here: {allowed})"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None

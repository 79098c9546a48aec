"""Mail templates -> message parts (subject, text, HTML), in a sandboxed Jinja2 environment.

A template is one file per message kind, `<language>/<kind>.j2`, with the blocks `subject`, `text`
and `html`. Lookup order: the event's own folder (`[event] templates`), OPSFLOW_TEMPLATES_DIR, the
built-in set. Undefined names are errors (StrictUndefined); HTML is autoescaped, text is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.exceptions import TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from opsflow.core.errors import TemplateError
from opsflow.core.resources import builtin_templates_dir

KINDS = (
    "invitation",
    "confirmation",
    "reminder",
    "change",
    "cancellation",
    "survey",
    "followup",
    "survey_reminder",
    "summary",
    "alert",
)
BLOCKS = ("subject", "text", "html")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# What `getattr(d, name)` finds on a plain dict: its methods and Python's own attributes.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, with a shortcut for the context's plain dicts: `event.title` is the sandbox's
    own answer, `event["title"]` (a dict has no attribute `title`), without first raising and catching
    an AttributeError, which costs more than the rest of the lookup. Only plain dict items come back
    this way, and only names that are no attribute of a dict; every other lookup, and every call,
    goes through the sandbox's checks as before.

    Every message is rendered in the sandbox, not only a first one. Rendering the rest without it,
    even with a context of plain dicts and strings, would not be as safe: the sandbox checks at run
    time, on the path one render takes, and a template chooses its path by the data (`{% if
    recipient.organization == ... %}`, a loop over a registrant's form answers), so one clean render
    says nothing about the next; and a template reaches Python's internals from its own literals
    (`''.__class__.__mro__`), with no object of ours in the context at all."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Renderer:
    """Renders the templates of one language from a search path of template folders. Each template is
    read and compiled once per renderer (one batch), not checked for changes at every message."""

    def __init__(self, language: str, folders: list[Path]) -> None:
        self.language = language
        self.folders = [f / language for f in folders]
        loader = FileSystemLoader([str(f) for f in self.folders])
        options = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            "auto_reload": False,
        }
        self.text_env = _Sandbox(autoescape=False, **options)
        self.html_env = _Sandbox(autoescape=True, **options)
        self._templates: dict[tuple[bool, str], Any] = {}

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        """Render the three blocks of `kind`. Raises TemplateError naming the file and line."""
        text_template = self._template(self.text_env, kind)
        html_template = self._template(self.html_env, kind)
        # one context for the subject and the text: a `set` inside a block stays in that block
        text_context = text_template.new_context(context)
        subject = self._block(text_template, "subject", text_context)
        return Rendered(
            subject=" ".join(subject.split()),  # one line, whatever the template's layout
            text=self._block(text_template, "text", text_context).strip("\n") + "\n",
            html=self._block(html_template, "html", html_template.new_context(context)).strip("\n") + "\n",
        )

    def _template(self, env: SandboxedEnvironment, kind: str):
        key = (env is self.html_env, kind)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._load(env, kind)
        return template

    def path_of(self, kind: str) -> str:
        """The file that `kind` comes from (for messages)."""
        for folder in self.folders:
            if (folder / f"{kind}.j2").is_file():
                return str(folder / f"{kind}.j2")
        return f"{self.language}/{kind}.j2"

    def _load(self, env: SandboxedEnvironment, kind: str):
        try:
            template = env.get_template(f"{kind}.j2")
        except TemplateNotFound:
            searched = ", ".join(str(f) for f in self.folders)
            raise TemplateError(f"no template {self.language}/{kind}.j2 (looked in {searched})") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(
                f"{exc.filename or self.path_of(kind)}:{exc.lineno}: template syntax error: {exc.message}"
            ) from None
        missing = [b for b in BLOCKS if b not in template.blocks]
        if missing:
            raise TemplateError(
                f"{self.path_of(kind)}: the template has no block {', '.join(missing)}: "
                "each template needs {% block subject %}, {% block text %} and {% block html %}"
            )
        return template

    def _block(self, template, block: str, context: Context) -> str:
        try:
            return "".join(template.blocks[block](context))
        except Exception as exc:  # noqa: BLE001 - a template is user code: any failure is the template's
            line = _template_line(exc, template)
            where = f"{template.filename}:{line}" if line else template.filename
            raise TemplateError(f"{where}: cannot render the {block} block: {exc}") from None


def renderer_for(language: str, event_folder: Path | None = None, user_folder: Path | None = None) -> Renderer:
    """The renderer for one event: its own folder, then the user's folder, then the built-in set."""
    folders = [f for f in (event_folder, user_folder) if f is not None]
    return Renderer(language, [*folders, builtin_templates_dir()])


def _template_line(exc: Exception, template) -> int | None:
    """The template line an exception was raised at: the deepest frame of the compiled template,
    mapped back to its source line."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if template.filename and tb.tb_frame.f_code.co_filename == template.filename:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


# --- dates and numbers as people write them ---------------------------------------------------


def date_text(start: datetime, end: datetime, tz: ZoneInfo, language: str) -> str:
    """`2027年1月21日(木) 18:00〜19:30` in Japanese; `Thursday, 21 January 2027, 18:00–19:30 JST` in English."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if language == "ja":
        day = f"{local_start.year}年{ja_day(local_start)}"
        if local_end.date() != local_start.date():
            return f"{day} {local_start:%H:%M}〜{ja_day(local_end)} {local_end:%H:%M}"
        return f"{day} {local_start:%H:%M}〜{local_end:%H:%M}"
    day = en_day(local_start, year=True, comma=True)
    if local_end.date() != local_start.date():
        end_day = en_day(local_end, year=True, comma=True)
        return f"{day}, {local_start:%H:%M} – {end_day}, {local_end:%H:%M} {local_end.tzname()}"
    return f"{day}, {local_start:%H:%M}–{local_end:%H:%M} {local_start.tzname()}"


# Day and month names as CLDR writes them (what Babel gave; written out, so that no locale data is
# loaded for every send): Japanese short weekdays, English full names.
_JA_WEEKDAYS = "月火水木金土日"
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def ja_day(day: date) -> str:
    """`1月21日(木)`"""
    return f"{day.month}月{day.day}日({_JA_WEEKDAYS[day.weekday()]})"


def en_day(day: date, *, year: bool = False, comma: bool = False) -> str:
    """`Thursday 21 January`; with `comma` and `year`, `Thursday, 21 January 2027`."""
    text = f"{_EN_WEEKDAYS[day.weekday()]}{',' if comma else ''} {day.day} {_EN_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def meeting_id_text(meeting_id: int | None) -> str | None:
    """A Zoom meeting id grouped the way Zoom prints it: `882 3163 5078`."""
    if meeting_id is None:
        return None
    digits = str(meeting_id)
    if len(digits) == 11:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return digits


def reminder_when(send_at: datetime, start: datetime, tz: ZoneInfo) -> str:
    """How a reminder speaks of the start, by calendar day in the seminar's zone: `today`, `tomorrow`
    or `later`."""
    days = (start.astimezone(tz).date() - send_at.astimezone(tz).date()).days
    return {0: "today", 1: "tomorrow"}.get(days, "later")


def start_text(send_at: datetime, start: datetime, tz: ZoneInfo, language: str) -> str:
    """The start as a reminder names it, seen from the day it is sent (in the seminar's zone):
    `本日18:00`, `明日1月21日(木)18:00`, `1月28日(木)18:00`; `today at 18:00 JST`,
    `tomorrow, Thursday 21 January, at 18:00 JST`, `on Thursday 28 January at 18:00 JST`.
    The year is added when the seminar is in a later year than the mail."""
    local = start.astimezone(tz)
    when = reminder_when(send_at, start, tz)
    other_year = local.year != send_at.astimezone(tz).year
    if language == "ja":
        day = ja_day(local)
        if when == "today":
            return f"本日{local:%H:%M}"
        if when == "tomorrow":
            return f"明日{day}{local:%H:%M}"
        return f"{local.year}年{day}{local:%H:%M}" if other_year else f"{day}{local:%H:%M}"
    hour = f"{local:%H:%M} {local.tzname()}"
    if when == "today":
        return f"today at {hour}"
    if when == "tomorrow":
        return f"tomorrow, {en_day(local)}, at {hour}"
    return f"on {en_day(local, year=other_year)} at {hour}"

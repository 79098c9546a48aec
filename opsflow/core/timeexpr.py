"""Time expressions such as `start - 14d @ 10:00`, durations such as `90m`, and business days.

`parse` reads an expression, `resolve` turns it into a UTC instant for one event.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from opsflow.core.errors import TimeExprError

UTC = datetime.UTC
UNITS = ("w", "d", "bd", "h", "m")
FORMS = "'start - 14d @ 10:00', 'start - 1h', 'end + 30m', 'end + 3bd @ 10:00' or '2020-11-05T10:00:00+09:00'"

MAX_DIGITS = 6
_ANCHOR = re.compile(r"(start|end)(?![a-z0-9_])")
_TERM = re.compile(r"([0-9]+)\s*([a-z]*)\s*")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_ISO_START = re.compile(r"[0-9]{4}-")
_DURATION = re.compile(r"(?:([0-9]+)\s*h)?\s*(?:([0-9]+)\s*m)?|([0-9]+)")


@dataclass(frozen=True)
class TimeExpr:
    """A parsed time expression: an offset from the event's start or end, or an absolute instant."""

    text: str
    anchor: Literal["start", "end"] | None
    sign: int
    terms: tuple[tuple[int, str], ...]
    time_of_day: datetime.time | None
    absolute: datetime.datetime | None

    def label(self) -> str:
        """Return the compact offset used in step keys: `14d-1000`, `1h30m`, `at-20201105T1000`."""
        if self.absolute is not None:
            at = self.absolute
            stamp = f"{at.year:04d}{at.month:02d}{at.day:02d}T{at.hour:02d}{at.minute:02d}"
            if at.second:
                stamp += f"{at.second:02d}"
            return f"at-{stamp}"
        offset = "".join(f"{n}{unit}" for n, unit in self.terms) or "0"
        if self.time_of_day is not None:
            return f"{offset}-{self.time_of_day.strftime('%H%M')}"
        return offset


def _fail(text: str, detail: str) -> TimeExprError:
    return TimeExprError(f"cannot read time expression {text!r}: {detail}; expected forms like {FORMS}")


def parse(text: str) -> TimeExpr:
    """Parse `ANCHOR [SIGN TERMS] [@ HH:MM]` or an ISO-8601 datetime with a UTC offset.

    Raises TimeExprError, quoting the text and the accepted forms, for anything else.
    """
    if not isinstance(text, str):
        raise TimeExprError(f"time expression must be text, not {type(text).__name__}: {text!r}")
    stripped = text.strip()
    if not stripped:
        raise _fail(stripped, "it is empty")
    if _ISO_START.match(stripped):
        return _parse_absolute(stripped)
    lowered = stripped.lower()
    match = _ANCHOR.match(lowered)
    if not match:
        raise _fail(stripped, "it must begin with 'start' or 'end', or be a datetime")
    anchor: Literal["start", "end"] = "start" if match.group(1) == "start" else "end"
    rest = lowered[match.end() :].strip()
    offset_part, at, time_part = rest.partition("@")
    offset_part = offset_part.strip()
    sign = 1
    terms: tuple[tuple[int, str], ...] = ()
    if offset_part:
        if offset_part[0] not in "+-":
            raise _fail(stripped, f"expected '+', '-' or '@' after {anchor!r}")
        sign = -1 if offset_part[0] == "-" else 1
        terms = _parse_terms(stripped, offset_part[1:].strip())
    time_of_day = _parse_time(stripped, time_part.strip()) if at else None
    return TimeExpr(stripped, anchor, sign, terms, time_of_day, None)


def _parse_absolute(text: str) -> TimeExpr:
    try:
        moment = datetime.datetime.fromisoformat(text.upper())
    except ValueError:
        raise _fail(text, "it is not a valid ISO-8601 datetime") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeExprError(
            f"datetime {text!r} has no UTC offset; add one like +09:00 (for example '2020-11-05T10:00:00+09:00')"
        )
    return TimeExpr(text, None, 1, (), None, moment)


def _parse_terms(text: str, part: str) -> tuple[tuple[int, str], ...]:
    if not part:
        raise _fail(text, "expected an offset such as '1d' or '30m' after the sign")
    terms: list[tuple[int, str]] = []
    pos = 0
    while pos < len(part):
        match = _TERM.match(part, pos)
        if not match:
            raise _fail(text, f"expected a number at {part[pos:]!r}")
        number, unit = match.groups()
        if len(number) > MAX_DIGITS:
            raise _fail(text, f"the number {number} is too large")
        if not unit:
            raise _fail(text, f"the number {number} has no unit (use w, d, bd, h or m)")
        if unit not in UNITS:
            raise _fail(text, f"unknown unit {unit!r} (use w, d, bd, h or m)")
        if any(unit == seen for _, seen in terms):
            raise _fail(text, f"unit {unit!r} is given twice")
        terms.append((int(number), unit))
        pos = match.end()
    if len(terms) > 1 and any(unit == "bd" for _, unit in terms):
        raise _fail(text, "'bd' (business days) cannot be combined with other units")
    return tuple(terms)


def _parse_time(text: str, part: str) -> datetime.time:
    match = _TIME.fullmatch(part)
    if not match:
        raise _fail(text, f"expected a time HH:MM after '@', got {part!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise _fail(text, f"{part!r} is not a valid time (use 00:00-23:59)")
    return datetime.time(hour, minute)


def parse_duration(text: str | int) -> datetime.timedelta:
    """Parse a positive duration: `90m`, `1h30m`, `1h 30m`, `2h`; a bare number means minutes."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise TimeExprError(f"duration must be text like '90m' or a number of minutes, not {text!r}")
    if isinstance(text, int):
        minutes = text
    else:
        lowered = text.strip().lower()
        match = _DURATION.fullmatch(lowered)
        if not lowered or not match:
            raise TimeExprError(f"cannot read duration {text!r}; expected forms like '90m', '1h30m', '1h 30m' or '2h'")
        numbers = match.groups()
        if any(n and len(n) > MAX_DIGITS for n in numbers):
            raise TimeExprError(f"duration {text!r} is too long")
        hours, mins, bare = (int(n or 0) for n in numbers)
        minutes = bare or hours * 60 + mins
    if minutes <= 0:
        raise TimeExprError(f"duration {text!r} must be longer than zero minutes")
    try:
        return datetime.timedelta(minutes=minutes)
    except OverflowError:
        raise TimeExprError(f"duration {text!r} is too long") from None


# {(country, year): {day: holiday name}}: shared by every calendar of the process, so that a run over many
# seminars of one country computes each year's holidays once (the package takes milliseconds a year).
_HOLIDAYS: dict[tuple[str, int], dict[datetime.date, str]] = {}


class BusinessCalendar:
    """Weekdays that are not public holidays of one country, from the `holidays` package.

    The package is imported on first use and each country's year is loaded once per process.
    """

    def __init__(self, country: str = "JP") -> None:
        self.country = country.strip().upper()

    def _holidays_in(self, year: int) -> dict[datetime.date, str]:
        found = _HOLIDAYS.get((self.country, year))
        if found is None:
            import holidays  # deferred: importing it costs a noticeable fraction of a second

            try:
                calendar = holidays.country_holidays(self.country, years=year)
            except NotImplementedError:
                raise TimeExprError(
                    f"unknown country code {self.country!r} for business days; "
                    f"use an ISO 3166 code supported by the holidays package, such as 'JP' or 'US'"
                ) from None
            found = _HOLIDAYS[(self.country, year)] = dict(calendar.items())
        return found

    def holiday_name(self, day: datetime.date) -> str | None:
        """Return the name of the public holiday on `day`, or None if it is not one."""
        return self._holidays_in(day.year).get(day)

    def is_business_day(self, day: datetime.date) -> bool:
        """Return True unless `day` is a Saturday, a Sunday or a public holiday."""
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_business_days(self, day: datetime.date, n: int) -> datetime.date:
        """Move `n` business days after (n > 0) or before (n < 0) `day`; n == 0 returns `day`."""
        step = datetime.timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day


def _localise(wall: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    # fold=0 (PEP 495): a wall time in a gap uses the offset before the change, so it lands
    # later by the gap's length; an ambiguous wall time takes its first occurrence.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def resolve(
    expr: TimeExpr,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
    calendar: BusinessCalendar,
) -> datetime.datetime:
    """Return the UTC instant `expr` names for an event running from `start` to `end` in `tz`.

    Weeks, days and business days move the local wall clock (the time of day is kept across a
    DST change); hours and minutes are elapsed time; `@ HH:MM` then sets the local time of day.
    A wall time that does not exist (spring-forward gap) moves forward by the gap, so 02:30 in
    New York on 2021-03-14 becomes 03:30 EDT; an ambiguous one (fall-back) takes the first
    occurrence. An absolute expression is returned as is, in UTC.
    """
    if expr.absolute is not None:
        return expr.absolute.astimezone(UTC)
    anchor_at = start if expr.anchor == "start" else end
    if anchor_at.tzinfo is None or anchor_at.utcoffset() is None:
        raise ValueError(f"{expr.anchor} must be an aware datetime, got {anchor_at!r}")
    amounts = dict.fromkeys(UNITS, 0)
    for number, unit in expr.terms:
        amounts[unit] += number * expr.sign
    try:
        moment = anchor_at.astimezone(UTC)
        days = amounts["w"] * 7 + amounts["d"]
        if days or amounts["bd"]:
            # Only round-trip through the wall clock when needed, so that an anchor in the
            # repeated fall-back hour keeps its exact instant under pure h/m offsets.
            wall = moment.astimezone(tz).replace(tzinfo=None) + datetime.timedelta(days=days)
            if amounts["bd"]:
                moved = calendar.add_business_days(wall.date(), amounts["bd"])
                wall = datetime.datetime.combine(moved, wall.time())
            moment = _localise(wall, tz)
        moment += datetime.timedelta(hours=amounts["h"], minutes=amounts["m"])
        if expr.time_of_day is not None:
            local_day = moment.astimezone(tz).date()
            moment = _localise(datetime.datetime.combine(local_day, expr.time_of_day), tz)
    except (OverflowError, ValueError):
        raise TimeExprError(f"time expression {expr.text!r} falls outside the supported dates (years 1-9999)") from None
    return moment

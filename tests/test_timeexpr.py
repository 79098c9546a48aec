"""Tests for time expressions, durations, business days and their resolution to UTC."""

from __future__ import annotations

import calendar as month_calendar
import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsflow.core.errors import TimeExprError
from opsflow.core.timeexpr import BusinessCalendar, TimeExpr, parse, parse_duration, resolve

UTC = datetime.timezone.utc
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
JP = BusinessCalendar("JP")
US = BusinessCalendar("US")
FORMS = (
    "expected forms like 'start - 14d @ 10:00', 'start - 1h', 'end + 30m', "
    "'end + 3bd @ 10:00' or '2020-11-05T10:00:00+09:00'"
)

# The reference seminar: Thursday 2020-11-19, 18:00-19:30 in Tokyo.
SEMINAR_START = datetime.datetime(2020, 11, 19, 18, 0, tzinfo=TOKYO)
SEMINAR_END = datetime.datetime(2020, 11, 19, 19, 30, tzinfo=TOKYO)

MODEST = settings(max_examples=150, deadline=None)


def seminar_at(text: str) -> datetime.datetime:
    result = resolve(parse(text), start=SEMINAR_START, end=SEMINAR_END, tz=TOKYO, calendar=JP)
    assert result.tzinfo is UTC
    return result.astimezone(TOKYO)


def resolve_from(text: str, start: datetime.datetime, tz: zoneinfo.ZoneInfo,
                 calendar: BusinessCalendar = JP) -> datetime.datetime:
    result = resolve(parse(text), start=start, end=start, tz=tz, calendar=calendar)
    assert result.tzinfo is UTC
    return result


def wall(moment: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def wall_exists(local: datetime.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    return wall(local.replace(tzinfo=tz).astimezone(UTC), tz) == local


def business_days_between(first: datetime.date, last: datetime.date) -> int:
    """Count business days in (first, last]."""
    days = (last - first).days
    return sum(JP.is_business_day(first + datetime.timedelta(days=i)) for i in range(1, days + 1))


# -- examples -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start - 14d @ 10:00", datetime.datetime(2020, 11, 5, 10, 0, tzinfo=TOKYO)),
        ("start - 1h", datetime.datetime(2020, 11, 19, 17, 0, tzinfo=TOKYO)),
        ("end + 30m", datetime.datetime(2020, 11, 19, 20, 0, tzinfo=TOKYO)),
        ("end + 1h30m", datetime.datetime(2020, 11, 19, 21, 0, tzinfo=TOKYO)),
        ("START-2W", datetime.datetime(2020, 11, 5, 18, 0, tzinfo=TOKYO)),
        ("start @ 09:00", datetime.datetime(2020, 11, 19, 9, 0, tzinfo=TOKYO)),
        ("start - 1d 2h", datetime.datetime(2020, 11, 18, 16, 0, tzinfo=TOKYO)),
        # Fri 20th is the 1st business day; 21-22 are a weekend, 23rd is Labour Thanksgiving
        # Day, so Tue 24th is the 2nd and Wed 25th the 3rd.
        ("end + 2bd @ 10:00", datetime.datetime(2020, 11, 24, 10, 0, tzinfo=TOKYO)),
        ("end + 3bd @ 10:00", datetime.datetime(2020, 11, 25, 10, 0, tzinfo=TOKYO)),
        ("start - 3bd", datetime.datetime(2020, 11, 16, 18, 0, tzinfo=TOKYO)),
        ("2020-11-05T10:00:00+09:00", datetime.datetime(2020, 11, 5, 1, 0, tzinfo=UTC)),
    ],
)
def test_resolve_for_the_reference_seminar(text: str, expected: datetime.datetime) -> None:
    assert seminar_at(text) == expected


def test_labour_thanksgiving_day_is_a_holiday() -> None:
    assert JP.holiday_name(datetime.date(2020, 11, 23)) is not None
    assert not JP.is_business_day(datetime.date(2020, 11, 23))
    assert JP.holiday_name(datetime.date(2020, 11, 24)) is None


@pytest.mark.parametrize(
    ("text", "anchor", "sign", "terms", "time_of_day", "label"),
    [
        ("start - 1d", "start", -1, ((1, "d"),), None, "1d"),
        ("start - 1h", "start", -1, ((1, "h"),), None, "1h"),
        ("start - 14d @ 10:00", "start", -1, ((14, "d"),), datetime.time(10, 0), "14d-1000"),
        ("end + 1h30m", "end", 1, ((1, "h"), (30, "m")), None, "1h30m"),
        ("  End+1h 30m ", "end", 1, ((1, "h"), (30, "m")), None, "1h30m"),
        ("end + 3 BD @ 9:05", "end", 1, ((3, "bd"),), datetime.time(9, 5), "3bd-0905"),
        ("start @ 10:00", "start", 1, (), datetime.time(10, 0), "0-1000"),
        ("start", "start", 1, (), None, "0"),
    ],
)
def test_parse_relative(text: str, anchor: str, sign: int, terms: tuple, time_of_day: datetime.time | None,
                        label: str) -> None:
    expr = parse(text)
    assert expr == TimeExpr(text.strip(), anchor, sign, terms, time_of_day, None)  # type: ignore[arg-type]
    assert expr.label() == label


def test_parse_absolute() -> None:
    expr = parse(" 2020-11-05T10:00:00+09:00 ")
    assert expr.text == "2020-11-05T10:00:00+09:00"
    assert expr.anchor is None and expr.terms == () and expr.time_of_day is None
    assert expr.absolute == datetime.datetime(2020, 11, 5, 1, 0, tzinfo=UTC)
    assert expr.label() == "at-20201105T1000"
    assert parse("2020-11-05t01:00:00z").label() == "at-20201105T0100"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("start - 1x", "unknown unit 'x' (use w, d, bd, h or m)"),
        ("start - 1hours", "unknown unit 'hours' (use w, d, bd, h or m)"),
        ("start - 1h30", "the number 30 has no unit (use w, d, bd, h or m)"),
        ("start + 1bd 2h", "'bd' (business days) cannot be combined with other units"),
        ("start + 1d 1d", "unit 'd' is given twice"),
        ("start @ 24:00", "'24:00' is not a valid time (use 00:00-23:59)"),
        ("start @ 10:60", "'10:60' is not a valid time (use 00:00-23:59)"),
        ("start @ ten", "expected a time HH:MM after '@', got 'ten'"),
        ("start -", "expected an offset such as '1d' or '30m' after the sign"),
        ("start 1d", "expected '+', '-' or '@' after 'start'"),
        ("starts - 1d", "it must begin with 'start' or 'end', or be a datetime"),
        ("tomorrow", "it must begin with 'start' or 'end', or be a datetime"),
        ("   ", "it is empty"),
        ("start - 1234567d", "the number 1234567 is too large"),
        ("2020-13-05T10:00:00+09:00", "it is not a valid ISO-8601 datetime"),
    ],
)
def test_parse_errors_quote_text_and_forms(text: str, detail: str) -> None:
    with pytest.raises(TimeExprError) as caught:
        parse(text)
    assert str(caught.value) == f"cannot read time expression {text.strip()!r}: {detail}; {FORMS}"


def test_datetime_without_offset_asks_for_one() -> None:
    with pytest.raises(TimeExprError) as caught:
        parse("2020-11-05T10:00:00")
    assert str(caught.value) == (
        "datetime '2020-11-05T10:00:00' has no UTC offset; add one like +09:00 "
        "(for example '2020-11-05T10:00:00+09:00')"
    )


@pytest.mark.parametrize(
    ("value", "minutes"),
    [("90m", 90), ("1h30m", 90), ("1h 30m", 90), ("2h", 120), (" 2H ", 120), (45, 45), ("45", 45)],
)
def test_parse_duration(value: str | int, minutes: int) -> None:
    assert parse_duration(value) == datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0m", "duration '0m' must be longer than zero minutes"),
        (0, "duration 0 must be longer than zero minutes"),
        (-5, "duration -5 must be longer than zero minutes"),
        ("", "cannot read duration ''; expected forms like '90m', '1h30m', '1h 30m' or '2h'"),
        ("30m1h", "cannot read duration '30m1h'; expected forms like '90m', '1h30m', '1h 30m' or '2h'"),
        ("1.5h", "cannot read duration '1.5h'; expected forms like '90m', '1h30m', '1h 30m' or '2h'"),
        (True, "duration must be text like '90m' or a number of minutes, not True"),
    ],
)
def test_parse_duration_errors(value: object, message: str) -> None:
    with pytest.raises(TimeExprError) as caught:
        parse_duration(value)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_unknown_country_is_named() -> None:
    with pytest.raises(TimeExprError) as caught:
        BusinessCalendar("XX").is_business_day(datetime.date(2020, 11, 20))
    assert "unknown country code 'XX'" in str(caught.value)


def test_country_code_is_case_insensitive_and_years_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    import holidays

    loads: list[object] = []
    real = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        loads.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    calendar = BusinessCalendar("jp")
    for day in (1, 2, 3, 1):
        calendar.is_business_day(datetime.date(2021, 5, day))
    calendar.holiday_name(datetime.date(2022, 1, 1))
    assert loads == [2021, 2022]


def test_add_business_days_zero_returns_the_day_even_on_a_holiday() -> None:
    assert JP.add_business_days(datetime.date(2020, 11, 23), 0) == datetime.date(2020, 11, 23)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (datetime.date(2020, 5, 1), 1, datetime.date(2020, 5, 7)),  # Golden Week: 2-3 weekend, 4-6 holidays
        (datetime.date(2020, 4, 28), 1, datetime.date(2020, 4, 30)),  # 29 Apr is Showa Day
        (datetime.date(2020, 5, 7), -1, datetime.date(2020, 5, 1)),
        (datetime.date(2020, 12, 31), 1, datetime.date(2021, 1, 4)),  # 1 Jan holiday, then a weekend
        # The package does not list 2-3 Jan as public holidays, so 2 Jan 2020 counts.
        (datetime.date(2019, 12, 31), 1, datetime.date(2020, 1, 2)),
        (datetime.date(2021, 1, 4), -1, datetime.date(2020, 12, 31)),
    ],
)
def test_add_business_days_examples(day: datetime.date, n: int, expected: datetime.date) -> None:
    assert JP.add_business_days(day, n) == expected


def test_new_year_and_golden_week_holidays() -> None:
    for year in range(2019, 2027):
        assert JP.holiday_name(datetime.date(year, 1, 1)) is not None
        for day in (datetime.date(year, 4, 29), *(datetime.date(year, 5, d) for d in (3, 4, 5))):
            assert not JP.is_business_day(day)


@pytest.mark.parametrize(
    ("text", "start", "expected_utc"),
    [
        # 1d across spring-forward keeps 18:00 wall time: only 23 hours elapse.
        ("start - 1d", datetime.datetime(2021, 3, 14, 18, 0, tzinfo=NEW_YORK),
         datetime.datetime(2021, 3, 13, 23, 0, tzinfo=UTC)),
        ("start - 24h", datetime.datetime(2021, 3, 14, 18, 0, tzinfo=NEW_YORK),
         datetime.datetime(2021, 3, 13, 22, 0, tzinfo=UTC)),
        # 02:30 does not exist on 2021-03-14; it becomes 03:30 EDT.
        ("start - 1d", datetime.datetime(2021, 3, 15, 2, 30, tzinfo=NEW_YORK),
         datetime.datetime(2021, 3, 14, 7, 30, tzinfo=UTC)),
        ("start @ 02:30", datetime.datetime(2021, 3, 14, 18, 0, tzinfo=NEW_YORK),
         datetime.datetime(2021, 3, 14, 7, 30, tzinfo=UTC)),
        # 01:30 happens twice on 2021-11-07; the first (EDT) is taken.
        ("start @ 01:30", datetime.datetime(2021, 11, 7, 18, 0, tzinfo=NEW_YORK),
         datetime.datetime(2021, 11, 7, 5, 30, tzinfo=UTC)),
        ("start - 1d", datetime.datetime(2021, 11, 8, 1, 30, tzinfo=NEW_YORK),
         datetime.datetime(2021, 11, 7, 5, 30, tzinfo=UTC)),
        # An anchor in the repeated hour (EST, fold=1) keeps its instant under elapsed units.
        ("start + 30m", datetime.datetime(2021, 11, 7, 1, 30, fold=1, tzinfo=NEW_YORK),
         datetime.datetime(2021, 11, 7, 7, 0, tzinfo=UTC)),
        ("start + 1bd", datetime.datetime(2021, 11, 5, 9, 0, tzinfo=NEW_YORK),
         datetime.datetime(2021, 11, 8, 14, 0, tzinfo=UTC)),
    ],
)
def test_resolve_across_new_york_dst(text: str, start: datetime.datetime,
                                     expected_utc: datetime.datetime) -> None:
    assert resolve_from(text, start, NEW_YORK, US) == expected_utc


def test_absolute_is_returned_in_utc_whatever_the_event() -> None:
    result = resolve_from("2021-03-14T02:30:00-04:00", SEMINAR_START, NEW_YORK)
    assert result == datetime.datetime(2021, 3, 14, 6, 30, tzinfo=UTC) and result.tzinfo is UTC


def test_naive_anchor_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        resolve_from("start - 1d", datetime.datetime(2020, 11, 19, 18, 0), TOKYO)


def test_out_of_range_result_is_a_time_expr_error() -> None:
    with pytest.raises(TimeExprError) as caught:
        resolve_from("start + 999999w", SEMINAR_START, TOKYO)
    assert "falls outside the supported dates" in str(caught.value)


# -- properties ---------------------------------------------------------------------------


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, month_calendar.monthrange(year, month)[1])


years = st.integers(2019, 2026)
year_ends = st.builds(lambda y, k: datetime.date(y, 12, 28) + datetime.timedelta(days=k),
                      years, st.integers(0, 8))
month_ends = st.builds(lambda y, m, k: _month_end(y, m) - datetime.timedelta(days=k),
                       years, st.integers(1, 12), st.integers(0, 2))
golden_weeks = st.builds(lambda y, k: datetime.date(y, 4, 25) + datetime.timedelta(days=k),
                         years, st.integers(0, 15))
interesting_days = st.one_of(year_ends, month_ends, golden_weeks,
                             st.dates(datetime.date(2019, 1, 1), datetime.date(2026, 12, 31)))
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
# New York changes clocks between 01:00 and 03:00, so draw those hours often.
dst_times = st.one_of(times, st.builds(datetime.time, st.integers(1, 2), st.integers(0, 59)))


@st.composite
def tokyo_starts(draw: st.DrawFn) -> datetime.datetime:
    return datetime.datetime.combine(draw(interesting_days), draw(times), tzinfo=TOKYO)


@st.composite
def new_york_starts(draw: st.DrawFn) -> datetime.datetime:
    pivot = draw(st.sampled_from([datetime.date(2021, 3, 14), datetime.date(2021, 11, 7)]))
    day = pivot + datetime.timedelta(days=draw(st.integers(-3, 3)))
    local = datetime.datetime.combine(day, draw(dst_times), tzinfo=NEW_YORK)
    local = local.replace(fold=draw(st.integers(0, 1)))
    return local.astimezone(UTC)  # a real instant, whatever the wall time drawn


@MODEST
@given(tokyo_starts(), st.integers(1, 15))
def test_forward_business_days_land_on_the_nth_business_day(start: datetime.datetime, n: int) -> None:
    result = resolve_from(f"start + {n}bd", start, TOKYO).astimezone(TOKYO)
    assert JP.is_business_day(result.date())
    assert business_days_between(start.date(), result.date()) == n
    assert result.time() == start.time()


@MODEST
@given(tokyo_starts(), st.integers(1, 15))
def test_backward_business_days_land_on_the_nth_business_day(start: datetime.datetime, n: int) -> None:
    result = resolve_from(f"start - {n}bd", start, TOKYO).astimezone(TOKYO)
    assert JP.is_business_day(result.date())
    # Exactly n business days lie in [result, start): the result itself counts, the start not.
    before_result = result.date() - datetime.timedelta(days=1)
    before_start = start.date() - datetime.timedelta(days=1)
    assert business_days_between(before_result, before_start) == n


@MODEST
@given(interesting_days, st.integers(-20, 20))
def test_business_days_round_trip(day: datetime.date, n: int) -> None:
    if JP.is_business_day(day):
        assert JP.add_business_days(JP.add_business_days(day, n), -n) == day


starts_with_zone = st.one_of(new_york_starts().map(lambda s: (s, NEW_YORK)),
                             tokyo_starts().map(lambda s: (s, TOKYO)))


@MODEST
@given(starts_with_zone, st.integers(0, 30))
def test_days_keep_the_local_wall_time(start_tz: tuple[datetime.datetime, zoneinfo.ZoneInfo],
                                       n: int) -> None:
    start, tz = start_tz
    expected = wall(start, tz) - datetime.timedelta(days=n)
    result = wall(resolve_from(f"start - {n}d", start, tz), tz)
    if wall_exists(expected, tz):
        assert result == expected
    else:
        assert result == expected + datetime.timedelta(hours=1)  # New York gaps are one hour


@MODEST
@given(starts_with_zone, st.integers(0, 100), st.integers(0, 59))
def test_hours_and_minutes_are_elapsed_time(start_tz: tuple[datetime.datetime, zoneinfo.ZoneInfo],
                                            hours: int, minutes: int) -> None:
    start, tz = start_tz
    result = resolve_from(f"start - {hours}h {minutes}m", start, tz)
    assert result == start - datetime.timedelta(hours=hours, minutes=minutes)


@MODEST
@given(new_york_starts(), st.integers(0, 3), dst_times)
def test_time_of_day_sets_the_local_wall_time(start: datetime.datetime, n: int,
                                               time_of_day: datetime.time) -> None:
    text = f"start + {n}d @ {time_of_day:%H:%M}"
    result = wall(resolve_from(text, start, NEW_YORK), NEW_YORK)
    day = wall(start, NEW_YORK).date() + datetime.timedelta(days=n)
    expected = datetime.datetime.combine(day, time_of_day)
    if wall_exists(expected, NEW_YORK):
        assert result == expected
    else:
        assert result == expected + datetime.timedelta(hours=1)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="startend +-@:0123456789bdhmwxT.Z")))
def test_parse_raises_only_time_expr_error(text: str) -> None:
    try:
        expr = parse(text)
    except TimeExprError:
        return
    assert expr.text == text.strip()
    expr.label()


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(), st.integers()))
def test_parse_duration_raises_only_time_expr_error(value: str | int) -> None:
    try:
        assert parse_duration(value) > datetime.timedelta(0)
    except TimeExprError:
        pass


def test_each_country_year_of_holidays_is_computed_once_per_process(monkeypatch):
    import holidays

    from opsflow.core import timeexpr

    asked = []
    real = holidays.country_holidays

    def counting(country, years):
        asked.append((country, years))
        return real(country, years=years)

    monkeypatch.setattr(timeexpr, "_HOLIDAYS", {})
    monkeypatch.setattr(holidays, "country_holidays", counting)
    for country in ("JP", "jp", " JP", "US"):  # a calendar per seminar, as the runner makes them
        calendar = BusinessCalendar(country)
        assert calendar.holiday_name(datetime.date(2027, 1, 1)) is not None
        assert calendar.is_business_day(datetime.date(2027, 1, 11)) is (country.strip() == "US")  # 成人の日
    assert asked == [("JP", 2027), ("US", 2027)]

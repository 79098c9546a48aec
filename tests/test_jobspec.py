"""Tests for loading job files: the shipped example, every kind of error with its place, and key lines."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsflow.core.errors import JobFileError, JobFileErrors
from opsflow.core.jobspec import DEFAULT_MAIL, MailEntry, find_line, job_paths, key_path, load_job, load_jobs, locate_keys

from .conftest import MINIMAL_JOB

UTC = timezone.utc


def minimal(extra: str = "", *, id: str = "seminar", **replace: str) -> str:
    """MINIMAL_JOB (lines 1-5: [event], id, title, start, duration) with `extra` from line 6 on."""
    text = MINIMAL_JOB.format(id=id)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text + extra


def only_error(excinfo: pytest.ExceptionInfo[JobFileErrors]) -> JobFileError:
    assert len(excinfo.value.errors) == 1, [str(e) for e in excinfo.value.errors]
    return excinfo.value.errors[0]


def places(err: JobFileErrors) -> list[tuple[str | None, str | None, int | None, str]]:
    return [(e.path, e.key, e.line, e.reason) for e in err.errors]


# --- the shipped example ------------------------------------------------------------------

def test_example_job_loads_with_times_in_utc(example_jobs: Path) -> None:
    event = load_job(example_jobs)

    assert event.id == "example-seminar"
    assert event.title == "パブリテックセミナー vol.3「自治体DXの現場から ― 窓口改革とデータ活用」"
    assert event.path == example_jobs
    assert event.start_at == datetime(2027, 1, 21, 9, 0, tzinfo=UTC)
    assert event.start_at.utcoffset() == timedelta(0)
    assert event.end_at == datetime(2027, 1, 21, 10, 30, tzinfo=UTC)
    assert event.tz == ZoneInfo("Asia/Tokyo")
    assert event.local(event.start_at) == datetime(2027, 1, 21, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert event.spec.event.series == "publitech-seminar"
    assert event.spec.event.language == "ja"
    assert [(s.name, s.affiliation) for s in event.spec.event.speakers] == [
        ("大野 健太", "石川県加賀市 政策戦略部イノベーション推進課"),
        ("佐藤 真理子", "福岡県糸島市 企画部デジタル推進課"),
    ]
    assert event.spec.zoom is not None and event.spec.zoom.registration is True
    assert event.spec.report.attended_minutes == 10
    assert event.spec.summary is not None and event.spec.summary.to == ["seminar-staff@example.jp"]


def test_example_writes_out_exactly_the_default_mails(example_jobs: Path) -> None:
    event = load_job(example_jobs)

    assert event.spec.mail is not None  # written out in the file ...
    assert event.mail == DEFAULT_MAIL  # ... and the same three as the default
    assert [(m.kind, m.at) for m in DEFAULT_MAIL] == [
        ("invitation", "start - 14d @ 10:00"),
        ("reminder", "start - 1d"),
        ("reminder", "start - 1h"),
    ]


def test_job_without_mail_tables_gets_the_defaults_and_explicit_mails_replace_them(write_job) -> None:
    default = load_job(write_job(minimal(), "default.toml"))
    explicit = load_job(write_job(minimal('\n[[mail]]\nkind = "reminder"\nat = "start - 2h"\n'), "explicit.toml"))

    assert default.spec.mail is None
    assert default.mail == DEFAULT_MAIL
    assert explicit.mail == (MailEntry(kind="reminder", at="start - 2h"),)


def line_of(path: Path, written: str, nth: int = 1) -> int:
    """The 1-based number of the `nth` line of `path` that starts with `written`."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(written)]
    return found[nth - 1]


def test_example_records_the_lines_of_its_keys(example_jobs: Path) -> None:
    event = load_job(example_jobs)

    assert event.lines["event"] == line_of(example_jobs, "[event]")
    assert event.lines["event.start"] == line_of(example_jobs, "start = ")
    assert event.lines["event.speakers[2]"] == line_of(example_jobs, "[[event.speakers]]", nth=2)
    assert event.lines["event.speakers[2].name"] == line_of(example_jobs, "name = ", nth=2)
    assert event.lines["mail[3]"] == line_of(example_jobs, "[[mail]]", nth=3)
    assert event.lines["mail[2].at"] == line_of(example_jobs, 'at = "start - 1d"')
    assert event.lines["survey.remind_at"] == line_of(example_jobs, "remind_at = ")
    assert event.error("mail[2].name", "x").line == line_of(example_jobs, "[[mail]]", nth=2)


# --- reading and parsing ------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs" / "nope.toml"

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.path, err.key, err.line) == (str(path), None, None)
    assert str(excinfo.value) == f"{path}: file not found: check the path"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "shift-jis.toml"
    path.write_bytes(minimal().encode("shift_jis"))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == f"{path}:3: cannot read the file: not UTF-8 text: save it as UTF-8"  # the title


HINT = "TOML syntax error: Invalid value: write text in quotes, a number, true or false, a date, or a list in [ ]"


def test_toml_syntax_error_takes_its_line_from_tomllib(write_job) -> None:
    path = write_job(minimal('language = "ja"\nseries = \n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.path, err.key, err.line) == (str(path), None, 7)
    assert err.reason == HINT
    assert str(excinfo.value) == f"{path}:7: {HINT}"


# --- unknown keys -------------------------------------------------------------------------

def test_unknown_key_at_top_level_lists_the_tables_allowed(write_job) -> None:
    path = write_job("titel = 1\n" + minimal())

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == (
        f"{path}:1: titel: unknown key 'titel' "
        "(allowed here: event, zoom, registrants, mail, report, survey, summary, speakers, recording)"
    )


def test_misspelt_top_level_table_suggests_the_right_one(write_job) -> None:
    path = write_job(minimal('\n[sumary]\nto = ["staff@example.jp"]\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("sumary", 7)
    assert err.reason == "unknown key 'sumary'; did you mean 'summary'?"


def test_unknown_key_in_event(write_job) -> None:
    path = write_job(minimal('titel = "x"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == f"{path}:6: event.titel: unknown key 'titel'; did you mean 'title'?"


def test_unknown_key_in_the_second_speaker(write_job) -> None:
    path = write_job(minimal(
        "\n"
        "[[event.speakers]]\n"      # line 7
        'name = "大野 健太"\n'
        "\n"
        "[[event.speakers]]\n"      # line 10
        'nmae = "佐藤 真理子"\n'    # line 11
        'talk = "書かない窓口"\n'
    ))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    # The misspelt key leaves `name` unset, so that is reported too, at the speaker's table.
    assert places(excinfo.value) == [
        (str(path), "event.speakers[2].name", 10, "required key is missing"),
        (str(path), "event.speakers[2].nmae", 11, "unknown key 'nmae'; did you mean 'name'?"),
    ]
    assert str(excinfo.value) == (
        "2 problems in job files:\n"
        f"  {path}:10: event.speakers[2].name: required key is missing\n"
        f"  {path}:11: event.speakers[2].nmae: unknown key 'nmae'; did you mean 'name'?"
    )


def test_unknown_key_in_the_third_mail(write_job) -> None:
    path = write_job(minimal(
        "\n"
        "[[mail]]\n"                 # line 7
        'kind = "invitation"\n'
        'at = "start - 14d @ 10:00"\n'
        "\n"
        "[[mail]]\n"                 # line 11
        'kind = "reminder"\n'
        'at = "start - 1d"\n'
        "\n"
        "[[mail]]\n"                 # line 15
        'kind = "reminder"\n'
        'tiem = "start - 1h"\n'      # line 17
    ))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert places(excinfo.value) == [
        (str(path), "mail[3].at", 15, "required key is missing"),
        (str(path), "mail[3].tiem", 17, "unknown key 'tiem' (allowed here: kind, at, name)"),
    ]


# --- wrong values -------------------------------------------------------------------------

def test_title_that_is_a_number(write_job) -> None:
    path = write_job(minimal(**{'title = "テストセミナー"': "title = 12"}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == f"{path}:3: event.title: expected text in quotes (got 12)"


@pytest.mark.parametrize("written", ['"maybe"', '"yes"', "1"])
def test_registration_that_is_not_a_boolean(write_job, written: str) -> None:
    # Strict types: TOML has booleans, so neither "yes" nor 1 passes as one.
    path = write_job(minimal(f"\n[zoom]\nregistration = {written}\n"))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("zoom.registration", 8)
    assert err.reason == f"expected true or false (got {written})"


def test_zoom_kind_outside_its_choices(write_job) -> None:
    path = write_job(minimal('\n[zoom]\nkind = "webinr"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == f"{path}:8: zoom.kind: expected 'meeting' or 'webinar' (got \"webinr\")"


def test_start_without_utc_offset(write_job) -> None:
    path = write_job(minimal(**{"2027-01-21T18:00:00+09:00": "2027-01-21T18:00:00"}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == (
        f"{path}:4: event.start: 2027-01-21T18:00:00 has no UTC offset: write it with one, "
        "e.g. 2027-01-21T18:00:00+09:00"
    )


def test_start_in_quotes_is_not_a_datetime(write_job) -> None:
    path = write_job(minimal(**{"2027-01-21T18:00:00+09:00": '"2027-01-21T18:00:00+09:00"'}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == (
        f"{path}:4: event.start: expected a datetime with offset, without quotes, "
        'e.g. 2027-01-21T18:00:00+09:00 (got "2027-01-21T18:00:00+09:00")'
    )


def test_start_that_is_only_a_date_is_quoted_as_written(write_job) -> None:
    path = write_job(minimal(**{"2027-01-21T18:00:00+09:00": "2027-01-21"}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("event.start", 4)
    assert err.reason == (
        "expected a datetime with offset, without quotes, e.g. 2027-01-21T18:00:00+09:00 (got 2027-01-21)"
    )


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ('"0m"', "duration '0m' must be longer than zero minutes"),
        ("0", "duration 0 must be longer than zero minutes"),
        ("-5", "duration -5 must be longer than zero minutes"),
        ('"ninety"', "cannot read duration 'ninety'; expected forms like '90m', '1h30m', '1h 30m' or '2h'"),
    ],
)
def test_duration_that_is_not_positive_or_not_readable(write_job, written: str, reason: str) -> None:
    path = write_job(minimal(**{'"90m"': written}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.path, err.key, err.line, err.reason) == (str(path), "event.duration", 5, reason)


@pytest.mark.parametrize(("written", "minutes"), [('"1h 30m"', 90), ("45", 45), ('"2h"', 120)])
def test_duration_forms_set_the_end(write_job, written: str, minutes: int) -> None:
    event = load_job(write_job(minimal(**{'"90m"': written})))

    assert event.end_at - event.start_at == timedelta(minutes=minutes)


@pytest.mark.parametrize("written", ["true", "1.5", "[90]"])
def test_duration_of_the_wrong_type_is_one_problem(write_job, written: str) -> None:
    # `str | int` fails once per member; it is still one problem at one key.
    path = write_job(minimal(**{'"90m"': written}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("event.duration", 5)
    assert err.reason == f'expected a duration like "90m" or "1h30m", or a number of minutes (got {written})'


def test_unknown_time_zone_suggests_the_nearest(write_job) -> None:
    path = write_job(minimal('timezone = "Asia/Tokio"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert str(excinfo.value) == f"{path}:6: event.timezone: unknown time zone 'Asia/Tokio'; did you mean 'Asia/Tokyo'?"


def test_time_zone_that_looks_like_a_path_is_refused(write_job) -> None:
    path = write_job(minimal('timezone = "/etc/localtime"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("event.timezone", 6)
    assert err.reason.startswith("unknown time zone '/etc/localtime'")


def test_unknown_holiday_country_is_an_error_at_event_holidays(write_job) -> None:
    path = write_job(minimal('holidays = "XX"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.path, err.key, err.line) == (str(path), "event.holidays", 6)
    assert err.reason == (
        "unknown country code 'XX' for business days; use an ISO 3166 code supported by the holidays "
        "package, such as 'JP' or 'US'"
    )


def test_holiday_country_in_lower_case_is_accepted(write_job) -> None:
    event = load_job(write_job(minimal('holidays = "us"\n')))

    assert event.calendar.holiday_name(date(2027, 7, 5)) == "Independence Day (observed)"
    assert event.calendar.holiday_name(date(2027, 2, 11)) is None


@pytest.mark.parametrize("bad_id", ["Bad Id!", "-leading-dash", ""])
def test_bad_event_id(write_job, bad_id: str) -> None:
    path = write_job(minimal(id=bad_id))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    err = only_error(excinfo)
    assert (err.key, err.line) == ("event.id", 2)
    assert err.reason == (
        "use lower-case letters a-z, digits, '.', '_' and '-', starting with a letter or digit, "
        f'e.g. "publitech-2027-01" (got "{bad_id}")'
    )


def test_registrants_csv_that_does_not_exist(write_job, tmp_path: Path) -> None:
    path = write_job(minimal('\n[registrants]\ncsv = "registrants/missing.csv"\n'))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    csv_path = tmp_path / "jobs" / "registrants" / "missing.csv"
    assert str(excinfo.value) == (
        f"{path}:8: registrants.csv: registrants CSV not found at {csv_path} (the path is relative "
        "to the job file): fix the path or export the form's CSV there"
    )


def test_registrants_csv_is_found_relative_to_the_job_file(write_job, tmp_path: Path) -> None:
    (tmp_path / "jobs" / "registrants").mkdir(parents=True)
    (tmp_path / "jobs" / "registrants" / "form.csv").write_text("メールアドレス\n", encoding="utf-8")

    event = load_job(write_job(minimal('\n[registrants]\ncsv = "registrants/form.csv"\n')))

    assert event.spec.registrants is not None and event.spec.registrants.csv == "registrants/form.csv"


def test_survey_url_and_summary_addresses_are_checked(write_job) -> None:
    path = write_job(minimal(
        "\n[survey]\n"
        'url = "forms.example.jp/f/x"\n'   # line 8
        "\n[summary]\n"
        'to = ["staff@example.jp", "not-an-address"]\n'  # line 11
    ))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert places(excinfo.value) == [
        (str(path), "survey.url", 8,
         "must be an http(s) URL, e.g. https://forms.example.jp/f/abc?email={email}"),
        (str(path), "summary.to[2]", 11, "'not-an-address' is not an email address"),
    ]


# --- several problems at once -------------------------------------------------------------

def test_several_schema_problems_in_one_file_are_reported_together(write_job) -> None:
    path = write_job(minimal('titel = "x"\n\n[zoom]\nkind = "webinr"\n', **{'title = "テストセミナー"': "title = 12"}))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert places(excinfo.value) == [
        (str(path), "event.title", 3, "expected text in quotes (got 12)"),
        (str(path), "event.titel", 6, "unknown key 'titel'; did you mean 'title'?"),
        (str(path), "zoom.kind", 9, "expected 'meeting' or 'webinar' (got \"webinr\")"),
    ]
    assert str(excinfo.value) == (
        "3 problems in job files:\n"
        f"  {path}:3: event.title: expected text in quotes (got 12)\n"
        f"  {path}:6: event.titel: unknown key 'titel'; did you mean 'title'?\n"
        f"  {path}:9: zoom.kind: expected 'meeting' or 'webinar' (got \"webinr\")"
    )


def test_several_value_problems_in_one_file_are_reported_together(write_job) -> None:
    path = write_job(minimal(
        'timezone = "Asia/Tokio"\n\n[registrants]\ncsv = "nope.csv"\n',
        **{"2027-01-21T18:00:00+09:00": "2027-01-21T18:00:00", '"90m"': '"0m"'},
    ))

    with pytest.raises(JobFileErrors) as excinfo:
        load_job(path)

    assert [(e.key, e.line) for e in excinfo.value.errors] == [
        ("event.timezone", 6),
        ("event.start", 4),
        ("event.duration", 5),
        ("registrants.csv", 9),
    ]
    assert str(excinfo.value).startswith("4 problems in job files:\n")


# --- several files ------------------------------------------------------------------------

def test_same_event_id_in_two_files_names_both(write_job) -> None:
    first = write_job(minimal(id="vol-3"), "a.toml")
    second = write_job(minimal(id="vol-3"), "b.toml")

    with pytest.raises(JobFileErrors) as excinfo:
        load_jobs([first, second])

    err = only_error(excinfo)
    assert (err.path, err.key, err.line) == (str(second), "event.id", 2)
    assert str(excinfo.value) == (
        f"{second}:2: event.id: event id 'vol-3' is already used by {first}; every seminar needs its own id"
    )


def test_load_jobs_reports_problems_of_every_file(write_job) -> None:
    good = write_job(minimal(id="vol-1"), "a.toml")
    bad = write_job(minimal(id="vol-2", **{'"90m"': '"0m"'}), "b.toml")
    again = write_job(minimal(id="vol-1"), "c.toml")

    with pytest.raises(JobFileErrors) as excinfo:
        load_jobs([good, bad, again])

    assert [(e.path, e.key) for e in excinfo.value.errors] == [
        (str(bad), "event.duration"),
        (str(again), "event.id"),
    ]


def test_load_jobs_returns_events_in_order(write_job) -> None:
    paths = [write_job(minimal(id=name), f"{name}.toml") for name in ("vol-2", "vol-1")]

    assert [event.id for event in load_jobs(paths)] == ["vol-2", "vol-1"]


def test_job_paths_lists_toml_files_by_name(write_job, tmp_path: Path) -> None:
    write_job(minimal(id="b"), "b.toml")
    write_job(minimal(id="a"), "a.toml")
    (tmp_path / "jobs" / "notes.txt").write_text("not a job", encoding="utf-8")

    assert job_paths(tmp_path / "jobs") == [tmp_path / "jobs" / "a.toml", tmp_path / "jobs" / "b.toml"]


def test_job_paths_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(JobFileErrors) as excinfo:
        job_paths(tmp_path / "nojobs")

    assert str(excinfo.value) == (
        f"{tmp_path / 'nojobs'}: jobs folder not found: create it, set OPSFLOW_JOBS_DIR, "
        "or name job files on the command line"
    )


# --- time expressions are read when planning ----------------------------------------------

def test_at_expression_that_does_not_parse_names_its_key_and_line(write_job) -> None:
    path = write_job(minimal(
        "\n"
        "[[mail]]\n"
        'kind = "invitation"\n'
        'at = "start - 14d @ 10:00"\n'
        "\n"
        "[[mail]]\n"                  # line 11
        'kind = "reminder"\n'
        'at = "start - 1x"\n'         # line 13
    ))
    with pytest.raises(JobFileErrors) as excinfo:  # found on loading, before any plan
        load_job(path)

    err = only_error(excinfo)
    assert (err.path, err.key, err.line) == (str(path), "mail[2].at", 13)
    assert str(err) == (
        f"{path}:13: mail[2].at: cannot read time expression 'start - 1x': unknown unit 'x' "
        "(use w, d, bd, h or m); expected forms like 'start - 14d @ 10:00', 'start - 1h', "
        "'end + 30m', 'end + 3bd @ 10:00' or '2020-11-05T10:00:00+09:00'"
    )


# --- key paths and lines ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("mail", 1, "at"), "mail[2].at"),
        (("event", "speakers", 0, "name"), "event.speakers[1].name"),
        (("event", "title"), "event.title"),
        (("titel",), "titel"),
        ((), ""),
    ],
)
def test_key_path(loc: tuple, expected: str) -> None:
    assert key_path(loc) == expected


LAYOUT = '''\
# a comment = not a key
mail = []
owner.name = "dotted at the top"

[event]
id = "x"
description = """
speaker = "inside a multi-line string"
[[mail]]
"""
start = 2027-01-21T18:00:00+09:00

[[event.speakers]]   # first
name = "a"

[[event.speakers]]
name = "b"
talk = \'\'\'
at = "inside a literal multi-line string"
\'\'\'
position = "after the string"

[ survey ]
url = "https://forms.example.jp/f/x"
site."google.com".lang = "ja"
"quoted" = 1
note = """one line"""
after = 2
'''


def test_locate_keys_records_tables_arrays_and_dotted_keys_but_not_string_contents() -> None:
    assert locate_keys(LAYOUT) == {
        "mail": 2,
        "owner.name": 3,
        "event": 5,
        "event.id": 6,
        "event.description": 7,
        "event.start": 11,
        "event.speakers[1]": 13,
        "event.speakers[1].name": 14,
        "event.speakers[2]": 16,
        "event.speakers[2].name": 17,
        "event.speakers[2].talk": 18,
        "event.speakers[2].position": 21,
        "survey": 23,
        "survey.url": 24,
        "survey.site.google.com.lang": 25,
        "survey.quoted": 26,
        "survey.note": 27,
        "survey.after": 28,
    }


def test_locate_keys_indexes_arrays_of_tables_inside_arrays_of_tables() -> None:
    text = (
        "[[a]]\n"        # 1
        "x = 1\n"
        "[[a.b]]\n"      # 3
        "y = 1\n"
        "[[a.b]]\n"      # 5
        "y = 2\n"
        "[[a]]\n"        # 7
        "[a.c]\n"        # 8
        "z = 3\n"
        "[[a.b]]\n"      # 10
        "y = 3\n"
    )

    assert locate_keys(text) == {
        "a[1]": 1, "a[1].x": 2,
        "a[1].b[1]": 3, "a[1].b[1].y": 4,
        "a[1].b[2]": 5, "a[1].b[2].y": 6,
        "a[2]": 7, "a[2].c": 8, "a[2].c.z": 9,
        "a[2].b[1]": 10, "a[2].b[1].y": 11,
    }


def test_locate_keys_is_not_fooled_by_triple_quotes_in_one_line_strings_or_comments() -> None:
    text = (
        "[event]\n"
        "title = 'about \"\"\" quotes'\n"
        'id = "x"   # a """ in a comment\n'
        'description = """first line\n'
        'still = "inside"\n'
        'last line"""\n'
        "start = 1\n"
    )

    assert locate_keys(text) == {
        "event": 1, "event.title": 2, "event.id": 3, "event.description": 4, "event.start": 7}


def test_locate_keys_skips_multi_line_strings_inside_arrays() -> None:
    text = '[summary]\nto = [\n  """a\nenabled = 1\n""",\n]\nenabled = true\n'

    assert locate_keys(text) == {"summary": 1, "summary.to": 2, "summary.enabled": 7}


def test_locate_keys_does_not_end_a_multi_line_string_at_an_escaped_quote() -> None:
    text = '[event]\ndescription = """\nsay \\"""\nstart = 1\n"""\nstart = 2\n'

    assert locate_keys(text) == {"event": 1, "event.description": 2, "event.start": 6}


def test_find_line_falls_back_to_the_enclosing_table() -> None:
    lines = locate_keys(LAYOUT)

    assert find_line(lines, "event.speakers[2].name") == 17
    assert find_line(lines, "event.speakers[2].affiliation") == 16  # not written: its table
    assert find_line(lines, "event.speakers[3].name") == 5  # no such table: up to [event]
    assert find_line(lines, "survey.remind_at") == 23
    assert find_line(lines, "zoom.kind") is None
    assert find_line(lines, "") is None


# --- the spec hash ------------------------------------------------------------------------

def test_spec_hash_is_stable_and_follows_the_content(write_job) -> None:
    original = minimal('\n[zoom]\nkind = "meeting"\n')
    path = write_job(original)
    first = load_job(path).spec_hash()

    assert load_job(path).spec_hash() == first
    assert len(first) == 16

    write_job(
        "# moved things around, added comments\n\n"
        + original.replace('title = "テストセミナー"', 'title   =   "テストセミナー"   # the title')
        + "\n\n# end\n"
    )
    assert load_job(path).spec_hash() == first

    write_job(original.replace("テストセミナー", "テストセミナー vol.2"))
    assert load_job(path).spec_hash() != first


def test_spec_hash_does_not_depend_on_the_file_name(write_job) -> None:
    assert load_job(write_job(minimal(), "a.toml")).spec_hash() == load_job(write_job(minimal(), "b.toml")).spec_hash()

"""Tests for planning: the steps of a seminar with their due times, overrides, misplaced steps, warnings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsflow.core.errors import JobFileError
from opsflow.core.jobspec import Event, load_job
from opsflow.core.plan import ON_APPLY, PlanWarning, Step, check_plan, plan_event

from .conftest import MINIMAL_JOB, NOW

UTC = timezone.utc

# Every section but [[mail]]; needs a registrants CSV next to the job (see `full_job`).
FULL_SECTIONS = """
[zoom]
registration = true

[registrants]
csv = "registrants/form.csv"

[survey]
url = "https://forms.example.jp/f/x?email={email}"

[summary]
to = ["staff@example.jp"]
"""


def minimal(extra: str = "", *, id: str = "seminar", **replace: str) -> str:
    """MINIMAL_JOB (Thursday 2027-01-21 18:00-19:30 JST; lines 1-5) with `extra` from line 6 on."""
    text = MINIMAL_JOB.format(id=id)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text + extra


def mails(*entries: tuple[str, str]) -> str:
    """[[mail]] tables of four lines each (blank, header, kind, at): after `minimal()`, the header of
    mail[N] is on line 3 + 4N and its `at` on line 5 + 4N."""
    return "".join(f'\n[[mail]]\nkind = "{kind}"\nat = "{at}"\n' for kind, at in entries)


@pytest.fixture
def full_job(write_job, tmp_path: Path):
    """full_job(text) -> Event: write a job whose registrants CSV exists, and load it."""
    (tmp_path / "jobs" / "registrants").mkdir(parents=True, exist_ok=True)
    (tmp_path / "jobs" / "registrants" / "form.csv").write_text("メールアドレス\n", encoding="utf-8")

    def load(text: str) -> Event:
        return load_job(write_job(text))

    return load


def schedule(event: Event, steps: list[Step]) -> list[tuple[str, str | None]]:
    return [(s.key, event.local(s.due_at).strftime("%Y-%m-%d %H:%M") if s.due_at else None) for s in steps]


def plan_of(write_job, text: str) -> tuple[Event, list[Step]]:
    event = load_job(write_job(text))
    return event, plan_event(event)


# --- the example --------------------------------------------------------------------------

def test_example_plan(example_jobs: Path) -> None:
    event = load_job(example_jobs)
    steps = plan_event(event)

    assert schedule(event, steps) == [
        ("zoom.create", None),
        ("registrants.sync", None),
        ("mail.confirmation", None),                   # 受付完了, on by default
        ("mail.invitation", "2027-01-07 10:00"),       # start - 14d @ 10:00
        ("mail.reminder.1d", "2027-01-20 18:00"),      # start - 1d
        ("mail.reminder.1h", "2027-01-21 17:00"),      # start - 1h
        ("report.fetch", "2027-01-21 20:00"),          # end (19:30) + 30m
        ("summary.staff", "2027-01-21 20:00"),         # after report.fetch
        ("survey.send", "2027-01-22 10:00"),           # Thu + 1 business day = Fri
        ("survey.remind", "2027-01-26 10:00"),         # Fri, (weekend), Mon, Tue
        ("summary.staff.survey", "2027-01-26 10:00"),  # after survey.remind
    ]


def test_example_plan_step_details(example_jobs: Path) -> None:
    event = load_job(example_jobs)
    by_key = {s.key: s for s in plan_event(event)}

    assert by_key["zoom.create"] == Step("zoom.create", "zoom.create", None, ON_APPLY, "zoom")
    assert by_key["mail.reminder.1d"] == Step(
        "mail.reminder.1d", "mail.reminder", datetime(2027, 1, 20, 9, 0, tzinfo=UTC), "start - 1d", "mail[2].at",
        is_send=True, params={"template": "reminder"},
    )
    assert by_key["mail.invitation"].params == {"template": "invitation"}
    assert by_key["mail.invitation"].kind == "mail.invitation"
    assert (by_key["survey.send"].after, by_key["survey.send"].is_send) == ("report.fetch", True)
    assert (by_key["survey.remind"].after, by_key["survey.remind"].is_send) == ("survey.send", True)
    assert (by_key["summary.staff"].kind, by_key["summary.staff"].at, by_key["summary.staff"].after) == (
        "summary.staff", "after report.fetch", "report.fetch")
    assert (by_key["summary.staff.survey"].kind, by_key["summary.staff.survey"].after) == (
        "summary.staff", "survey.remind")
    assert [k for k, s in by_key.items() if s.is_send] == [
        "mail.confirmation", "mail.invitation", "mail.reminder.1d", "mail.reminder.1h", "survey.send", "survey.remind"]
    assert all(s.due_at is None or s.due_at.utcoffset() == timedelta(0) for s in by_key.values())


def test_example_plan_has_no_warnings_before_it_starts(example_jobs: Path) -> None:
    event = load_job(example_jobs)

    assert check_plan(event, plan_event(event), NOW) == []


# --- the default lifecycle ----------------------------------------------------------------

def test_default_lifecycle_without_mail_tables(full_job) -> None:
    event = full_job(minimal(FULL_SECTIONS))
    steps = plan_event(event)

    assert schedule(event, steps) == [
        ("zoom.create", None),
        ("registrants.sync", None),
        ("mail.confirmation", None),                   # 受付完了, on by default
        ("mail.invitation", "2027-01-07 10:00"),
        ("mail.reminder.1d", "2027-01-20 18:00"),
        ("mail.reminder.1h", "2027-01-21 17:00"),
        ("report.fetch", "2027-01-21 20:00"),
        ("summary.staff", "2027-01-21 20:00"),
        ("survey.send", "2027-01-21 20:30"),           # default "end + 1h"
        ("survey.remind", "2027-01-26 10:00"),         # default "end + 3bd @ 10:00"
        ("summary.staff.survey", "2027-01-26 10:00"),
    ]
    # Default mails have no table of their own, so their errors point at `mail`.
    assert [s.source for s in steps if s.key.startswith("mail.")] == ["event.confirmation", "mail", "mail", "mail"]


def test_event_section_alone_gets_only_the_default_mails(write_job) -> None:
    event, steps = plan_of(write_job, minimal())

    assert schedule(event, steps) == [
        ("mail.invitation", "2027-01-07 10:00"),
        ("mail.reminder.1d", "2027-01-20 18:00"),
        ("mail.reminder.1h", "2027-01-21 17:00"),
    ]


def test_zoom_registration_alone_syncs_registrants(write_job) -> None:
    _, steps = plan_of(write_job, "mail = []\n" + minimal("\n[zoom]\nregistration = true\n"))

    assert [s.key for s in steps] == ["zoom.create", "registrants.sync", "mail.confirmation", "report.fetch"]


def test_zoom_without_registration_or_csv_does_not_sync(write_job) -> None:
    _, steps = plan_of(write_job, "mail = []\n" + minimal("\n[zoom]\n"))

    assert [s.key for s in steps] == ["zoom.create", "report.fetch"]


# --- overrides ----------------------------------------------------------------------------

def test_moving_a_reminder_changes_its_key_and_time(write_job) -> None:
    event, steps = plan_of(write_job, minimal(mails(
        ("invitation", "start - 14d @ 10:00"), ("reminder", "start - 2d @ 15:00"), ("reminder", "start - 1h"))))

    assert schedule(event, steps) == [
        ("mail.invitation", "2027-01-07 10:00"),
        ("mail.reminder.2d-1500", "2027-01-19 15:00"),
        ("mail.reminder.1h", "2027-01-21 17:00"),
    ]


def test_empty_mail_list_removes_every_mail(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS))

    assert [s.key for s in plan_event(event)] == [
        "zoom.create", "registrants.sync", "mail.confirmation", "report.fetch", "summary.staff", "survey.send",
        "survey.remind", "summary.staff.survey",
    ]  # the 受付完了 is no [[mail]]: `[event] confirmation = false` turns it off


def test_a_fourth_reminder_is_added_in_due_order(write_job) -> None:
    event, steps = plan_of(write_job, minimal(mails(
        ("invitation", "start - 14d @ 10:00"), ("reminder", "start - 1d"), ("reminder", "start - 1h"),
        ("reminder", "start - 3d @ 10:00"))))

    assert schedule(event, steps) == [
        ("mail.invitation", "2027-01-07 10:00"),
        ("mail.reminder.3d-1000", "2027-01-18 10:00"),
        ("mail.reminder.1d", "2027-01-20 18:00"),
        ("mail.reminder.1h", "2027-01-21 17:00"),
    ]
    assert {s.key: s.source for s in steps}["mail.reminder.3d-1000"] == "mail[4].at"


def test_named_mails_take_their_name_as_key(write_job) -> None:
    event, steps = plan_of(write_job, minimal(
        '\n[[mail]]\nkind = "invitation"\nat = "start - 14d @ 10:00"\nname = "early"\n'
        '\n[[mail]]\nkind = "reminder"\nat = "start - 10m"\nname = "final"\n'
    ))

    assert schedule(event, steps) == [
        ("mail.invitation.early", "2027-01-07 10:00"),
        ("mail.reminder.final", "2027-01-21 17:50"),
    ]


def test_absolute_reminder_gets_a_dated_key(write_job) -> None:
    event, steps = plan_of(write_job, minimal(mails(("reminder", "2027-01-15T12:00:00+09:00"))))

    assert schedule(event, steps) == [("mail.reminder.at-20270115T1200", "2027-01-15 12:00")]


def test_two_mails_with_the_same_key_are_an_error_at_the_second(write_job) -> None:
    path = write_job(minimal(mails(
        ("invitation", "start - 14d @ 10:00"), ("reminder", "start - 1d"), ("reminder", "start-1d @ 18:00"),
        ("reminder", "start - 1d"))))
    event = load_job(path)

    with pytest.raises(JobFileError) as excinfo:
        plan_event(event)

    err = excinfo.value
    assert (err.path, err.key, err.line) == (str(path), "mail[4]", 19)
    assert str(err) == (
        f"{path}:19: mail[4]: two mails share the step key 'mail.reminder.1d': give one of them "
        'a `name = "..."` of its own'
    )


def test_two_unnamed_invitations_are_an_error(write_job) -> None:
    path = write_job(minimal(mails(("invitation", "start - 14d @ 10:00"), ("invitation", "start - 7d @ 10:00"))))

    with pytest.raises(JobFileError) as excinfo:
        plan_event(load_job(path))

    assert (excinfo.value.key, excinfo.value.line) == ("mail[2]", 11)
    assert excinfo.value.reason == (
        "two mails share the step key 'mail.invitation': give one of them a `name = \"...\"` of its own")


def test_report_disabled_removes_the_fetch_and_the_summary_falls_back(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS + "\n[report]\nenabled = false\n"))
    steps = plan_event(event)

    assert schedule(event, steps) == [
        ("zoom.create", None),
        ("registrants.sync", None),
        ("mail.confirmation", None),                   # 受付完了, on by default
        ("summary.staff", "2027-01-21 20:00"),
        ("survey.send", "2027-01-21 20:30"),
        ("survey.remind", "2027-01-26 10:00"),
        ("summary.staff.survey", "2027-01-26 10:00"),
    ]
    by_key = {s.key: s for s in steps}
    assert (by_key["summary.staff"].at, by_key["summary.staff"].after) == ("end + 30m", None)
    assert by_key["survey.send"].after is None


def test_report_time_can_be_moved_and_the_summary_follows(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS + '\n[report]\nat = "end + 2h"\n'))
    steps = plan_event(event)

    assert schedule(event, steps) == [
        ("zoom.create", None),
        ("registrants.sync", None),
        ("mail.confirmation", None),                   # 受付完了, on by default
        ("survey.send", "2027-01-21 20:30"),
        ("report.fetch", "2027-01-21 21:30"),
        ("summary.staff", "2027-01-21 21:30"),
        ("survey.remind", "2027-01-26 10:00"),
        ("summary.staff.survey", "2027-01-26 10:00"),
    ]
    assert {s.key: s.after for s in steps}["survey.send"] == "report.fetch"


def test_survey_without_reminder(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS.replace(
        '[survey]\n', '[survey]\nremind = false\nremind_at = "end - 1h"\n')))
    steps = plan_event(event)

    # remind_at is not even read when the reminder is off.
    assert schedule(event, steps) == [
        ("zoom.create", None),
        ("registrants.sync", None),
        ("mail.confirmation", None),                   # 受付完了, on by default
        ("report.fetch", "2027-01-21 20:00"),
        ("summary.staff", "2027-01-21 20:00"),
        ("survey.send", "2027-01-21 20:30"),
    ]


def test_summary_disabled(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS.replace("[summary]\n", "[summary]\nenabled = false\n")))

    assert [s.key for s in plan_event(event)] == [
        "zoom.create", "registrants.sync", "mail.confirmation", "report.fetch", "survey.send", "survey.remind"]


# --- steps on the wrong side of the seminar -----------------------------------------------

def test_reminder_due_after_the_start(write_job) -> None:
    path = write_job(minimal(mails(("invitation", "start - 14d @ 10:00"), ("reminder", "start + 10m"))))

    with pytest.raises(JobFileError) as excinfo:
        plan_event(load_job(path))

    err = excinfo.value
    assert (err.path, err.key, err.line) == (str(path), "mail[2].at", 13)
    assert str(err) == (
        f"{path}:13: mail[2].at: reminder 'start + 10m' is due 2027-01-21 Thu 18:10 JST, after the seminar "
        "starts (2027-01-21 Thu 18:00 JST); it must be due before the start"
    )


def test_reminder_due_exactly_at_the_start_is_allowed(write_job) -> None:
    event, steps = plan_of(write_job, minimal(mails(("reminder", "start"))))

    assert schedule(event, steps) == [("mail.reminder.0", "2027-01-21 18:00")]


def test_survey_due_before_the_end(full_job, tmp_path: Path) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS.replace('[survey]\n', '[survey]\nat = "end - 10m"\n')))
    path = tmp_path / "jobs" / "seminar.toml"

    with pytest.raises(JobFileError) as excinfo:
        plan_event(event)

    assert str(excinfo.value) == (
        f"{path}:15: survey.at: the survey 'end - 10m' is due 2027-01-21 Thu 19:20 JST, before the seminar "
        "ends (2027-01-21 Thu 19:30 JST); it must be due at or after the end"
    )


def test_report_due_before_the_end(write_job) -> None:
    path = write_job(minimal('\n[zoom]\n\n[report]\nat = "start + 1h"\n'))

    with pytest.raises(JobFileError) as excinfo:
        plan_event(load_job(path))

    assert str(excinfo.value) == (
        f"{path}:10: report.at: the report fetch 'start + 1h' is due 2027-01-21 Thu 19:00 JST, before the "
        "seminar ends (2027-01-21 Thu 19:30 JST); it must be due at or after the end"
    )


@pytest.mark.parametrize(
    ("remind_at", "remind_local"),
    [("end + 1bd @ 10:00", "2027-01-22 Fri 10:00 JST"), ("end + 2bd @ 10:00", "2027-01-25 Mon 10:00 JST")],
)
def test_survey_reminder_not_after_the_survey(full_job, tmp_path: Path, remind_at: str, remind_local: str) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS.replace(
        '[survey]\n', f'[survey]\nat = "end + 2bd @ 10:00"\nremind_at = "{remind_at}"\n')))
    path = tmp_path / "jobs" / "seminar.toml"

    with pytest.raises(JobFileError) as excinfo:
        plan_event(event)

    err = excinfo.value
    assert (err.key, err.line) == ("survey.remind_at", 16)
    assert str(err) == (
        f"{path}:16: survey.remind_at: the survey reminder ({remind_local}) must come after the survey "
        "itself (2027-01-25 Mon 10:00 JST)"
    )


# --- warnings -----------------------------------------------------------------------------

def warnings_of(write_job, text: str, now: datetime = NOW) -> list[tuple[str, str]]:
    event, steps = plan_of(write_job, text)
    found = check_plan(event, steps, now)
    assert all(isinstance(w, PlanWarning) and w.event_id == "seminar" for w in found)
    return [(w.step_key, w.message) for w in found]


def test_sends_at_night(write_job) -> None:
    assert warnings_of(write_job, minimal(mails(("reminder", "start - 1d @ 07:00")))) == [
        ("mail.reminder.1d-0700", "sends at night (2027-01-20 Wed 07:00 JST)"),
    ]


def test_late_seminar_reminder_at_night(write_job) -> None:
    text = minimal(mails(("reminder", "start - 1h")), **{"T18:00": "T22:00"})

    assert warnings_of(write_job, text) == [("mail.reminder.1h", "sends at night (2027-01-21 Thu 21:00 JST)")]


@pytest.mark.parametrize(
    ("at", "is_night"),
    [("07:59", True), ("08:00", False), ("12:00", False), ("20:00", False), ("20:01", True), ("00:00", True)],
)
def test_night_starts_after_20_and_ends_at_8(write_job, at: str, is_night: bool) -> None:
    found = warnings_of(write_job, minimal(mails(("reminder", f"start - 1d @ {at}"))))

    assert found == ([(f"mail.reminder.1d-{at.replace(':', '')}", f"sends at night (2027-01-20 Wed {at} JST)")]
                     if is_night else [])


def test_sends_on_a_weekend(write_job) -> None:
    # Monday 2027-01-25; two days before is Saturday.
    text = minimal(mails(("reminder", "start - 2d @ 10:00")), **{"2027-01-21": "2027-01-25"})

    assert warnings_of(write_job, text) == [("mail.reminder.2d-1000", "sends on a weekend (2027-01-23 Sat 10:00 JST)")]


def test_sends_on_a_public_holiday(write_job) -> None:
    # Friday 2027-02-12; the day before is National Foundation Day.
    text = minimal(mails(("reminder", "start - 1d @ 10:00")), **{"2027-01-21": "2027-02-12"})

    assert warnings_of(write_job, text) == [
        ("mail.reminder.1d-1000", "sends on a public holiday, Foundation Day (2027-02-11 Thu 10:00 JST)"),
    ]


def test_a_holiday_on_a_weekend_is_named_once(write_job) -> None:
    # Sunday 2027-03-21 is the Vernal Equinox Day.
    text = minimal(mails(("reminder", "start - 1d @ 10:00")), **{"2027-01-21": "2027-03-22"})

    assert warnings_of(write_job, text) == [
        ("mail.reminder.1d-1000", "sends on a public holiday, Vernal Equinox Day (2027-03-21 Sun 10:00 JST)"),
    ]


def test_holidays_of_another_country(write_job) -> None:
    # 2027-02-11 is a holiday in Japan, not in the US.
    text = minimal(mails(("reminder", "start - 1d @ 10:00")), **{"2027-01-21": "2027-02-12"})
    text = text.replace('duration = "90m"\n', 'duration = "90m"\nholidays = "US"\n')

    assert warnings_of(write_job, text) == []


def test_already_past(example_jobs: Path) -> None:
    event = load_job(example_jobs)
    steps = plan_event(event)

    assert check_plan(event, steps, datetime(2027, 1, 7, 1, 0, tzinfo=UTC)) == []  # exactly due: not past
    assert check_plan(event, steps, datetime(2027, 1, 7, 1, 1, tzinfo=UTC)) == [
        PlanWarning("example-seminar", "mail.invitation", "is due 2027-01-07 Thu 10:00 JST, which is already past"),
    ]


def test_every_timed_step_can_be_past_but_only_sends_get_the_other_warnings(example_jobs: Path) -> None:
    event = load_job(example_jobs)

    found = check_plan(event, plan_event(event), datetime(2027, 2, 1, tzinfo=UTC))

    assert [(w.step_key, w.message) for w in found] == [
        ("mail.invitation", "is due 2027-01-07 Thu 10:00 JST, which is already past"),
        ("mail.reminder.1d", "is due 2027-01-20 Wed 18:00 JST, which is already past"),
        ("mail.reminder.1h", "is due 2027-01-21 Thu 17:00 JST, which is already past"),
        ("report.fetch", "is due 2027-01-21 Thu 20:00 JST, which is already past"),
        ("summary.staff", "is due 2027-01-21 Thu 20:00 JST, which is already past"),
        ("survey.send", "is due 2027-01-22 Fri 10:00 JST, which is already past"),
        ("survey.remind", "is due 2027-01-26 Tue 10:00 JST, which is already past"),
        ("summary.staff.survey", "is due 2027-01-26 Tue 10:00 JST, which is already past"),
    ]


def test_no_warning_for_a_weekday_morning_send(write_job) -> None:
    assert warnings_of(write_job, minimal(mails(("reminder", "start - 1d @ 10:00")))) == []


def test_steps_that_send_nothing_are_never_night_or_weekend(full_job) -> None:
    # Saturday 2027-01-23, 18:00-19:30: report and summary at 22:30 on a Saturday; the survey waits for Monday.
    event = full_job("mail = []\n" + minimal(
        FULL_SECTIONS.replace("[survey]\n", '[survey]\nat = "end + 1bd @ 10:00"\n') + '\n[report]\nat = "end + 3h"\n',
        **{"2027-01-21": "2027-01-23"}))
    steps = plan_event(event)

    assert schedule(event, steps)[3:5] == [("report.fetch", "2027-01-23 22:30"), ("summary.staff", "2027-01-23 22:30")]
    assert check_plan(event, steps, NOW) == []


def test_several_warnings_for_one_step(write_job) -> None:
    # Saturday 2027-01-23 at 06:00, seen from after it.
    text = minimal(mails(("reminder", "start - 2d @ 06:00")), **{"2027-01-21": "2027-01-25"})

    assert warnings_of(write_job, text, now=datetime(2027, 1, 24, tzinfo=UTC)) == [
        ("mail.reminder.2d-0600", "is due 2027-01-23 Sat 06:00 JST, which is already past"),
        ("mail.reminder.2d-0600", "sends at night (2027-01-23 Sat 06:00 JST)"),
        ("mail.reminder.2d-0600", "sends on a weekend (2027-01-23 Sat 06:00 JST)"),
    ]


# --- a time zone with daylight saving time ------------------------------------------------

def test_days_keep_the_wall_clock_across_a_dst_change(write_job) -> None:
    # New York moved to EDT at 02:00 on Sunday 2021-03-14.
    text = minimal(
        'timezone = "America/New_York"\nholidays = "US"\n'
        + mails(("reminder", "start - 1d"), ("reminder", "start - 2d"), ("reminder", "start - 48h")),
        **{"2027-01-21T18:00:00+09:00": "2021-03-15T18:00:00-04:00"},
    )
    event, steps = plan_of(write_job, text)

    assert event.start_at == datetime(2021, 3, 15, 22, 0, tzinfo=UTC)
    assert [(s.key, s.due_at, event.local(s.due_at).isoformat()) for s in steps] == [
        ("mail.reminder.48h", datetime(2021, 3, 13, 22, 0, tzinfo=UTC), "2021-03-13T17:00:00-05:00"),
        ("mail.reminder.2d", datetime(2021, 3, 13, 23, 0, tzinfo=UTC), "2021-03-13T18:00:00-05:00"),
        ("mail.reminder.1d", datetime(2021, 3, 14, 22, 0, tzinfo=UTC), "2021-03-14T18:00:00-04:00"),
    ]
    assert [(w.step_key, w.message) for w in check_plan(event, steps, datetime(2021, 1, 1, tzinfo=UTC))] == [
        ("mail.reminder.48h", "sends on a weekend (2021-03-13 Sat 17:00 EST)"),
        ("mail.reminder.2d", "sends on a weekend (2021-03-13 Sat 18:00 EST)"),
        ("mail.reminder.1d", "sends on a weekend (2021-03-14 Sun 18:00 EDT)"),
    ]


def test_reminder_anchored_on_the_end_names_its_anchor(write_job) -> None:
    event, steps = plan_of(write_job, minimal(mails(("reminder", "end - 2h"), ("reminder", "start - 2h"))))

    assert schedule(event, steps) == [("mail.reminder.2h", "2027-01-21 16:00"),
                                      ("mail.reminder.end-2h", "2027-01-21 17:30")]


def test_a_step_due_before_the_step_it_waits_for_is_warned(full_job) -> None:
    event = full_job("mail = []\n" + minimal(FULL_SECTIONS + '\n[report]\nat = "end + 2h"\n'))
    steps = plan_event(event)

    assert [(w.step_key, w.message) for w in check_plan(event, steps, NOW)] == [
        ("survey.send", "is due 2027-01-21 Thu 20:30 JST but waits for report.fetch (due 2027-01-21 Thu 21:30 JST)"),
        ("survey.send", "sends at night (2027-01-21 Thu 20:30 JST)"),
    ]

"""Attendance from Zoom participant reports: a scripted seminar with exact figures, report parsing, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsflow.after.attendance import (
    PersonAttendance,
    RegistrantRef,
    Segment,
    attendance,
    segments_from_report,
    summary_numbers,
    timeline,
)

DAY = datetime(2027, 1, 21, tzinfo=UTC)


def at(hhmm: str, seconds: int = 0) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return DAY.replace(hour=hours, minute=minutes, second=seconds)


def seg(name: str, join: str, leave: str, *, email: str = "", rid: str = "", leave_s: int = 0,
        waiting: bool = False) -> Segment:
    return Segment(name, email, rid, at(join), at(leave, leave_s), waiting)


REGISTRANTS = [
    RegistrantRef(1, "t-yamada@city.kaga.lg.jp", "山田 太郎", "rid-yamada"),
    RegistrantRef(2, "h-sato@example.jp", "佐藤 花子", "rid-sato"),
    RegistrantRef(3, "i-suzuki@example.jp", "鈴木 一郎", "rid-suzuki"),
    RegistrantRef(4, "j-takahashi@example.jp", "高橋 次郎", None),
    RegistrantRef(5, "misaki@example.jp", "田中\u3000美咲", None),
    RegistrantRef(6, "ito1@example.jp", "伊藤 健", None),
    RegistrantRef(7, "ito2@example.jp", "伊藤 健", None),
    RegistrantRef(8, "d-nakamura@example.jp", "中村 大輔", "rid-nakamura"),
    RegistrantRef(9, "y-kobayashi@example.jp", "小林 優", None),  # never came
]

SEGMENTS = [
    # waited, then left and rejoined: 10 + 70 minutes; the waiting room does not count
    seg("山田 太郎", "08:58", "09:00", email="t-yamada@city.kaga.lg.jp", rid="rid-yamada", waiting=True),
    seg("山田 太郎", "09:00", "09:10", email="t-yamada@city.kaga.lg.jp", rid="rid-yamada"),
    seg("山田 太郎", "09:20", "10:30", email="t-yamada@city.kaga.lg.jp", rid="rid-yamada"),
    # PC and phone overlapping: 09:00-10:15 is 75 minutes, not 60 + 45
    seg("佐藤 花子", "09:00", "10:00", email="h-sato@example.jp", rid="rid-sato"),
    seg("佐藤 (iPhone)", "09:30", "10:15", rid="rid-sato"),
    # matched by registrant id although Zoom shows another name and no email
    seg("Ichiro S.", "09:02", "10:28", rid="rid-suzuki"),
    # matched by email only (different display name); 9 minutes, below the threshold
    seg("たかはし", "09:05", "09:14", email="j-takahashi@example.jp"),
    # matched by exact name only (the registrant wrote a full-width space); exactly 10 minutes
    seg("田中  美咲", "09:00", "09:10"),
    # two registrants are called 伊藤 健: no guessing, a guest grouped by name; 10 min 59 s -> 10
    seg("伊藤 健", "09:10", "09:20", leave_s=59),
    # a guest without an email who rejoined: 30 min + 10 min 59 s -> 40
    seg("ゲスト", "09:00", "09:30"),
    seg("ゲスト", "09:40", "09:50", leave_s=59),
    # a guest whose email is not registered
    seg("Visitor", "09:15", "10:15", email="visitor@example.com"),
    # only ever in the waiting room
    seg("中村", "08:55", "09:05", rid="rid-nakamura", waiting=True),
]


def person(rid, name, email, minutes, first, last, segments, attended, matched_by):
    return PersonAttendance(rid, name, email, minutes, first and at(first), last, segments, attended, matched_by)


def test_attendance_of_a_scripted_seminar():
    people = attendance(SEGMENTS, REGISTRANTS, threshold_minutes=10)
    assert people == [
        person(8, "中村 大輔", "d-nakamura@example.jp", 0, None, None, 0, False, "registrant_id"),
        person(2, "佐藤 花子", "h-sato@example.jp", 75, "09:00", at("10:15"), 2, True, "registrant_id"),
        person(1, "山田 太郎", "t-yamada@city.kaga.lg.jp", 80, "09:00", at("10:30"), 2, True, "registrant_id"),
        person(5, "田中\u3000美咲", "misaki@example.jp", 10, "09:00", at("09:10"), 1, True, "name"),
        person(3, "鈴木 一郎", "i-suzuki@example.jp", 86, "09:02", at("10:28"), 1, True, "registrant_id"),
        person(4, "高橋 次郎", "j-takahashi@example.jp", 9, "09:05", at("09:14"), 1, False, "email"),
        person(None, "Visitor", "visitor@example.com", 60, "09:15", at("10:15"), 1, True, None),
        person(None, "ゲスト", None, 40, "09:00", at("09:50", 59), 2, True, None),
        person(None, "伊藤 健", None, 10, "09:10", at("09:20", 59), 1, True, None),
    ]


def test_summary_numbers_of_the_scripted_seminar():
    people = attendance(SEGMENTS, REGISTRANTS, threshold_minutes=10)
    numbers = summary_numbers(people, registrations=len(REGISTRANTS))
    assert numbers == {
        "registrations": 9, "attendees": 7, "attended_registrants": 4, "guests": 3,
        "attendance_rate": pytest.approx(4 / 9),
        "average_minutes": pytest.approx(361 / 7),  # 80 + 75 + 10 + 86 + 60 + 40 + 10
        "median_minutes": 60.0,
    }


def test_summary_numbers_edge_cases():
    def attended(minutes: int, rid: int | None = 1) -> PersonAttendance:
        return PersonAttendance(rid, "x", None, minutes, at("09:00"), at("10:00"), 1, True, None)

    assert summary_numbers([], 0) == {
        "registrations": 0, "attendees": 0, "attended_registrants": 0, "guests": 0,
        "attendance_rate": None, "average_minutes": None, "median_minutes": None,
    }
    numbers = summary_numbers([attended(10), attended(20), attended(30, None), attended(41, None)], 4)
    assert (numbers["median_minutes"], numbers["average_minutes"], numbers["attendance_rate"]) == (25.0, 25.25, 0.5)
    with pytest.raises(ValueError, match="2 registrants attended but registrations is 1"):
        summary_numbers([attended(10), attended(20)], 1)


def test_a_higher_threshold_changes_only_is_attended():
    people = {p.name: p for p in attendance(SEGMENTS, REGISTRANTS, threshold_minutes=76)}
    assert [n for n, p in people.items() if p.is_attended] == ["山田 太郎", "鈴木 一郎"]
    assert people["佐藤 花子"].minutes == 75


def test_matching_order_is_registrant_id_then_email_then_name():
    registrants = [RegistrantRef(1, "a@example.jp", "A", "rid-a"), RegistrantRef(2, "b@example.jp", "B", None)]
    # B's email wins over A's name; an unknown registrant id falls through to the email
    people = attendance([seg("A", "09:00", "09:30", email="b@example.jp", rid="rid-unknown")],
                        registrants, threshold_minutes=10)
    assert [(p.registrant_id, p.matched_by) for p in people] == [(2, "email")]
    # one registrant reached by name on one row and registrant id on another: the id is reported
    people = attendance([seg("A", "09:00", "09:30"), seg("Phone", "09:10", "09:40", rid="rid-a")],
                        registrants, threshold_minutes=10)
    assert [(p.registrant_id, p.minutes, p.segments, p.matched_by) for p in people] == [(1, 40, 2, "registrant_id")]


def test_a_guest_with_an_email_is_one_person_under_different_names():
    people = attendance([seg("Guest PC", "09:00", "09:20", email="g@example.com"),
                         seg("Guest phone", "09:30", "09:40", email="g@example.com")], [], threshold_minutes=10)
    assert [(p.name, p.email, p.minutes, p.segments) for p in people] == [("Guest PC", "g@example.com", 30, 2)]


def test_negative_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold_minutes"):
        attendance([], [], threshold_minutes=-1)


def test_timeline_counts_people_not_devices():
    points = dict(timeline(SEGMENTS, at("09:00"), at("10:30"), registrants=REGISTRANTS))
    assert len(points) == 91
    assert points[at("09:00")] == 4   # 山田, 佐藤, 田中, ゲスト; 中村 only waits
    assert points[at("09:15")] == 5   # 山田 is out; 佐藤, 鈴木, ゲスト, 伊藤, Visitor (joins this instant)
    assert points[at("09:45")] == 5   # 山田, 佐藤 on two devices counted once, 鈴木, ゲスト, Visitor
    assert points[at("10:29")] == 1   # 山田 only
    assert points[at("10:30")] == 0   # 山田 left at this instant


def test_timeline_steps_and_bounds():
    points = timeline(SEGMENTS, at("09:00"), at("09:59"), registrants=REGISTRANTS, step=timedelta(minutes=30))
    assert points == [(at("09:00"), 4), (at("09:30"), 4)]
    assert timeline(SEGMENTS, at("10:00"), at("09:00"), registrants=REGISTRANTS) == []
    with pytest.raises(ValueError, match="step must be positive"):
        timeline(SEGMENTS, at("09:00"), at("10:00"), registrants=REGISTRANTS, step=timedelta(0))


def test_timeline_knows_a_person_as_the_attendance_table_does():
    # 山田 by registrant id on the PC, by email on a phone, by name on a tablet: one person, as in the table
    devices = [
        seg("山田 太郎", "09:00", "10:00", email="t-yamada@city.kaga.lg.jp", rid="rid-yamada"),
        seg("やまだ (iPhone)", "09:05", "09:30", email="t-yamada@city.kaga.lg.jp"),
        seg("山田\u3000太郎", "09:10", "09:20"),
        seg("Visitor", "09:00", "09:30", email="visitor@example.com"),
        seg("Visitor phone", "09:05", "09:30", email="visitor@example.com"),
    ]
    points = dict(timeline(devices, at("09:00"), at("09:30"), registrants=REGISTRANTS))
    people = attendance(devices, REGISTRANTS, threshold_minutes=10)
    assert max(points.values()) == len(people) == 2
    assert points[at("09:15")] == 2


def report_row(name, email, join, leave, duration, **extra):
    row = {"id": "", "user_id": "16778240", "name": name, "user_email": email, "join_time": join,
           "leave_time": leave, "duration": duration, "failover": False, "status": "in_meeting", "customer_key": ""}
    return {**row, **extra}


def test_segments_from_report_reads_zoom_rows():
    rows = [
        report_row("山田 太郎", "T-Yamada@City.Kaga.lg.jp", "2027-01-21T09:01:12Z", "2027-01-21T10:29:50Z", 5318,
                   id="x7Hq", registrant_id="abc"),
        report_row("ゲスト", "", "2027-01-21T09:05:00Z", None, 600, registrant_id=""),
        {k: v for k, v in report_row("Phone", "", "2027-01-21T09:10:00Z", "", "90").items() if k != "leave_time"},
        report_row("Early", "", "2027-01-21T09:20:00Z", "2027-01-21T09:19:00Z", 120),
        report_row("待つ人", "", "2027-01-21T08:55:00Z", "2027-01-21T09:00:00Z", 300, status="in_waiting_room"),
    ]
    assert segments_from_report(rows) == [
        Segment("山田 太郎", "t-yamada@city.kaga.lg.jp", "abc", at("09:01", 12), at("10:29", 50), False),
        Segment("ゲスト", "", "", at("09:05"), at("09:15"), False),
        Segment("Phone", "", "", at("09:10"), at("09:11", 30), False),
        Segment("Early", "", "", at("09:20"), at("09:22"), False),
        Segment("待つ人", "", "", at("08:55"), at("09:00"), True),
    ]


@pytest.mark.parametrize("bad, message", [
    ({"join_time": None}, "report row 1: join_time is missing"),
    ({"join_time": "21/01/2027 09:00"}, "report row 1: join_time '21/01/2027 09:00' is not a time"),
    ({"join_time": "2027-01-21T09:00:00"}, "report row 1: join_time '2027-01-21T09:00:00' has no time zone"),
    ({"leave_time": "soon"}, "report row 1: leave_time 'soon' is not a time"),
    ({"leave_time": "", "duration": None}, "report row 1: leave_time is missing or before join_time, and duration"),
    ({"leave_time": "", "duration": "long"}, "report row 1: duration 'long' is not a whole number"),
    ({"leave_time": "", "duration": -5}, "report row 1: duration -5 is negative"),
])
def test_segments_from_report_names_the_bad_row(bad, message):
    good = report_row("A", "", "2027-01-21T09:00:00Z", "2027-01-21T09:30:00Z", 1800)
    with pytest.raises(ValueError) as caught:
        segments_from_report([good, {**good, **bad}])
    assert str(caught.value).startswith(message)


def test_a_row_without_join_time_is_refused():
    row = report_row("A", "", "2027-01-21T09:00:00Z", "2027-01-21T09:30:00Z", 1800)
    del row["join_time"]
    with pytest.raises(ValueError, match=r"report row 0: join_time is missing"):
        segments_from_report([row])


# Properties: people are built with known identities so that each output entry maps back to one of them.
MATCH_STYLES = ("registrant_id", "email", "name", "guest_email", "guest_name")
intervals = st.tuples(st.integers(0, 240 * 60), st.integers(0, 120 * 60), st.booleans())


@st.composite
def scripted_people(draw):
    styles = draw(st.lists(st.sampled_from(MATCH_STYLES), min_size=1, max_size=6))
    registrants, segments, truth = [], [], {}
    for i, style in enumerate(styles):
        name, email = f"Person {i}", f"p{i}@example.jp"
        if style in ("registrant_id", "email", "name"):
            registrants.append(RegistrantRef(i, email, name.replace(" ", "\u3000"), f"rid-{i}"))
        rows = draw(st.lists(intervals, min_size=1, max_size=4))
        for start, length, waiting in rows:
            join = DAY + timedelta(seconds=start)
            segments.append(Segment(
                name=f"Person  {i}" if style == "name" else name,
                email=email if style in ("email", "guest_email") else "",
                registrant_id=f"rid-{i}" if style == "registrant_id" else "",
                join_at=join, leave_at=join + timedelta(seconds=length), is_waiting_room=waiting))
        truth[i] = [s for s in segments[-len(rows):] if not s.is_waiting_room]
    return registrants, segments, truth


@settings(max_examples=200, deadline=None)
@given(scripted_people(), st.integers(0, 60))
def test_minutes_lie_between_the_longest_segment_and_the_span(scripted, threshold):
    registrants, segments, truth = scripted
    people = attendance(segments, registrants, threshold_minutes=threshold)
    assert len(people) == len(truth)
    assert sum(p.segments for p in people) == sum(len(rows) for rows in truth.values())
    for p in people:
        i = p.registrant_id if p.registrant_id is not None else int(p.name.split()[-1])
        rows = truth[i]
        assert p.segments == len(rows)
        if not rows:
            assert (p.minutes, p.is_attended, p.first_join_at) == (0, False, None)
            continue
        span = (p.last_leave_at - p.first_join_at).total_seconds()
        longest = max((s.leave_at - s.join_at).total_seconds() for s in rows)
        assert int(longest) // 60 <= p.minutes <= int(span) // 60
        assert p.is_attended == (p.minutes >= threshold)


random_segments = st.lists(st.builds(
    lambda name, email, rid, start, length, waiting: Segment(
        name, email, rid, DAY + timedelta(seconds=start), DAY + timedelta(seconds=start + length), waiting),
    st.sampled_from(["A", "B", "B\u3000C", "B C"]), st.sampled_from(["", "a@x.jp", "b@x.jp"]),
    st.sampled_from(["", "r1", "r2"]), st.integers(0, 7200), st.integers(0, 3600), st.booleans(),
), max_size=12)
random_registrants = st.lists(st.builds(
    RegistrantRef, st.integers(1, 4), st.sampled_from(["a@x.jp", "b@x.jp", "c@x.jp"]),
    st.sampled_from(["A", "B C", "D"]), st.sampled_from([None, "r1", "r2"])), max_size=4, unique_by=lambda r: r.id)


@settings(max_examples=200, deadline=None)
@given(random_segments, random_registrants)
def test_attendees_never_outnumber_distinct_people(segments, registrants):
    people = attendance(segments, registrants, threshold_minutes=5)
    distinct = {(s.registrant_id, s.email, " ".join(s.name.split())) for s in segments}
    assert sum(p.is_attended for p in people) <= len(people) <= len(distinct)
    assert sum(p.segments for p in people) == sum(not s.is_waiting_room for s in segments)
    for p in people:
        if p.first_join_at is not None:
            assert p.minutes <= int((p.last_leave_at - p.first_join_at).total_seconds()) // 60
    for _moment, count in timeline(
        segments, DAY, DAY + timedelta(hours=3), registrants=registrants, step=timedelta(minutes=7)
    ):
        assert count <= len(people)

"""Webinar panelists (the speakers' links) and cloud recordings, through the opsflow client against the fake
Zoom on loopback. Every exchange is checked against Zoom's OpenAPI document by the `fake_zoom` fixture."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from opsflow.core.config import Secret
from opsflow.core.errors import InputError, ZoomApiError, ZoomNotFoundError, ZoomUnavailable
from opsflow.sandbox.zoom_cli import configure, parse_args
from opsflow.zoom import Credentials, RetryPolicy, Zoom
from opsflow.zoom.panelists import Panelist, add_panelists, list_panelists, remove_all_panelists, remove_panelist
from opsflow.zoom.recordings import Recording, fetch_recording, recording_from

WEBINAR = {"topic": "第12回 ウェビナー", "type": 5, "start_time": "2027-01-21T09:00:00Z", "duration": 90,
           "timezone": "Asia/Tokyo", "agenda": "[opsflow w]", "settings": {"approval_type": 0}}
MEETING = {"topic": "第12回 セミナー", "type": 2, "start_time": "2027-01-21T09:00:00Z", "duration": 90,
           "timezone": "Asia/Tokyo", "agenda": "[opsflow m]", "settings": {"auto_recording": "cloud"}}


def _webinar(zoom: Zoom, **settings) -> int:
    return zoom.create("webinar", "me", {**WEBINAR, "settings": {**WEBINAR["settings"], **settings}})["id"]


def _people(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"name": f"講師{i}", "email": f"speaker{i}@example.jp"} for i in range(start, start + n)]


def _posted(fake_zoom, webinar_id: int) -> list[list[str]]:
    """The emails of each add call, in order."""
    path = f"/v2/webinars/{webinar_id}/panelists"
    return [[p["email"] for p in json.loads(r.body)["panelists"]]
            for r in fake_zoom.recorded if r.method == "POST" and r.path == path]


# -- panelists ---------------------------------------------------------------------------------------


def test_65_speakers_are_added_in_calls_of_30_with_their_own_links(zoom, fake_zoom):
    webinar = _webinar(zoom)

    report = add_panelists(zoom, webinar, _people(65))

    assert [len(call) for call in _posted(fake_zoom, webinar)] == [30, 30, 5]
    assert fake_zoom.count("GET", f"/v2/webinars/{webinar}/panelists") == 2  # before, and for the links
    assert report.existing == [] and [p.email for p in report.added] == [p["email"] for p in _people(65)]
    assert all(isinstance(p, Panelist) and p.id and p.join_url.startswith(f"https://zoom.us/w/{webinar}?tk=")
               for p in report.added)
    assert len({p.join_url for p in report.added}) == 65
    assert [(p.id, p.join_url) for p in list_panelists(zoom, webinar)] == [(p.id, p.join_url) for p in report.added]


def test_adding_again_adds_only_who_is_missing_whatever_the_letter_case(zoom, fake_zoom):
    webinar = _webinar(zoom)
    first = add_panelists(zoom, webinar, _people(3))

    again = add_panelists(zoom, webinar, [
        {"name": "講師0", "email": "SPEAKER0@example.jp"},
        *_people(2, start=1),
        {"name": "新しい講師", "email": "new@example.jp"},
        {"name": "新しい講師", "email": "New@Example.jp"},  # the same person twice in the job
    ])
    unchanged = add_panelists(zoom, webinar, _people(3))

    assert _posted(fake_zoom, webinar) == [[p["email"] for p in _people(3)], ["new@example.jp"]]
    assert again.existing == first.added and [p.email for p in again.added] == ["new@example.jp"]
    assert [p.email for p in again.panelists] == [p["email"] for p in _people(3)] + ["new@example.jp"]
    assert unchanged.added == [] and unchanged.existing == first.added
    assert len(fake_zoom.panelists(webinar)) == 4


def test_the_list_survives_repeated_rows_and_a_repeated_page_token(zoom, fake_zoom):
    webinar = _webinar(zoom)
    add_panelists(zoom, webinar, _people(4))
    fake_zoom.quirks.duplicate_rows = True
    fake_zoom.quirks.repeat_page_token = True
    before = fake_zoom.count("GET", f"/v2/webinars/{webinar}/panelists")

    listed = list_panelists(zoom, webinar)

    assert [p.email for p in listed] == [p["email"] for p in _people(4)]
    last = fake_zoom.recorded[-1]
    assert len(json.loads(last.response_body)["panelists"]) == 5  # the fake did repeat the first row
    assert "next_page_token" not in json.loads(last.response_body)  # Zoom does not page this list
    assert fake_zoom.count("GET", f"/v2/webinars/{webinar}/panelists") == before + 1
    again = add_panelists(zoom, webinar, _people(5))
    assert [p.email for p in again.added] == ["speaker4@example.jp"]


def test_remove_and_remove_again(zoom, fake_zoom):
    webinar = _webinar(zoom)
    one, two, three = add_panelists(zoom, webinar, _people(3)).added

    assert remove_panelist(zoom, webinar, one.id) is True
    assert remove_panelist(zoom, webinar, one.id) is False  # already gone: fine
    assert remove_panelist(zoom, webinar, two.email) is True  # Zoom also takes the email
    assert [p.email for p in list_panelists(zoom, webinar)] == [three.email]
    assert fake_zoom.count("DELETE", f"/v2/webinars/{webinar}/panelists/{one.id}") == 2

    remove_all_panelists(zoom, webinar)
    assert list_panelists(zoom, webinar) == []
    zoom.delete("webinar", webinar)
    assert remove_panelist(zoom, webinar, three.id) is False  # the webinar is gone, and its panelists too


def test_panelists_of_a_webinar_that_does_not_exist(zoom, fake_zoom):
    with pytest.raises(ZoomNotFoundError) as err:
        list_panelists(zoom, 12345678901)
    assert (err.value.status, err.value.code) == (404, 3001)


def test_a_speaker_without_an_email_is_refused_before_any_call(zoom, fake_zoom):
    webinar = _webinar(zoom)
    calls = len(fake_zoom.recorded)

    with pytest.raises(InputError) as err:
        add_panelists(zoom, webinar, [{"name": "山田 太郎", "email": ""}])

    assert str(err.value) == ("a webinar panelist needs a name and an email address, got name '山田 太郎' and "
                              "email '': give each speaker both")
    assert len(fake_zoom.recorded) == calls


def test_more_than_zoom_allows_is_zoom_error_3000(zoom, fake_zoom):
    webinar = _webinar(zoom)

    with pytest.raises(ZoomApiError) as err:
        add_panelists(zoom, webinar, _people(101))

    assert (err.value.status, err.value.code) == (400, 3000)
    assert [len(call) for call in _posted(fake_zoom, webinar)] == [30, 30, 30, 11]
    assert len(fake_zoom.panelists(webinar)) == 90
    assert len(add_panelists(zoom, webinar, _people(100)).added) == 10  # up to the limit it goes on


def test_zoom_mails_panelists_itself_unless_the_webinar_says_not_to(zoom, fake_zoom):
    quiet = _webinar(zoom, panelists_invitation_email_notification=False)
    loud = _webinar(zoom)

    add_panelists(zoom, quiet, _people(2))
    add_panelists(zoom, loud, _people(2))

    assert fake_zoom.panelist_invitations(quiet) == []
    assert fake_zoom.panelist_invitations(loud) == ["speaker0@example.jp", "speaker1@example.jp"]


# -- recordings --------------------------------------------------------------------------------------


def test_recording_none_yet_then_processing_then_completed(zoom, fake_zoom, clock):
    meeting = zoom.create("meeting", "me", MEETING)["id"]
    ended_at = clock.wall + timedelta(minutes=90)
    fake_zoom.end_meeting(meeting, ended_at=ended_at, participants=[
        {"name": "A", "user_email": "a@example.jp", "join_time": clock.wall, "leave_time": ended_at}])

    assert fetch_recording(zoom, meeting) is None  # before the end: 3301
    assert fetch_recording(zoom, meeting, include_processing=True) is None
    clock.wall = ended_at + timedelta(minutes=5)
    assert fetch_recording(zoom, meeting) is None  # files still processing
    processing = fetch_recording(zoom, meeting, include_processing=True)
    assert processing is not None and not processing.is_completed and not processing.is_ready
    assert processing.share_url == "" and [f.status for f in processing.files] == ["processing", "processing"]

    clock.wall = ended_at + timedelta(hours=1)
    done = fetch_recording(zoom, meeting)

    assert isinstance(done, Recording) and done.is_completed and done.is_ready
    assert done.meeting_id == meeting and done.topic == MEETING["topic"]
    assert done.share_url.startswith("https://zoom.us/rec/share/") and done.passcode
    assert done.url_with_passcode() == f"{done.share_url}?pwd={done.play_passcode}"
    assert [(f.file_type, f.recording_type) for f in done.files] == [
        ("MP4", "shared_screen_with_speaker_view"), ("M4A", "audio_only")]
    assert all(f.is_completed and f.size > 0 and f.play_url and f.download_url for f in done.files)
    statuses = [r.status for r in fake_zoom.recorded if r.path == f"/v2/meetings/{meeting}/recordings"]
    assert statuses == [404, 404, 200, 200, 200]


def test_recording_by_a_double_encoded_uuid_and_of_a_webinar(zoom, fake_zoom, clock):
    meeting = zoom.create("meeting", "me", MEETING)["id"]
    webinar = _webinar(zoom)
    fake_zoom.end_meeting(meeting, ended_at=clock.wall, participants=[], uuid="/ab//cd==")
    fake_zoom.end_meeting(webinar, ended_at=clock.wall, participants=[], is_recorded=True)
    clock.advance(hours=2)

    by_uuid = fetch_recording(zoom, "/ab//cd==")
    of_webinar = fetch_recording(zoom, webinar)

    assert by_uuid is not None and by_uuid.uuid == "/ab//cd==" and by_uuid.meeting_id == meeting
    assert fake_zoom.count("GET", "/v2/meetings/%252Fab%252F%252Fcd%253D%253D/recordings") == 1
    assert of_webinar is not None and of_webinar.meeting_id == webinar and of_webinar.is_ready


def test_a_meeting_that_was_not_recorded_never_has_one(zoom, fake_zoom, clock):
    meeting = zoom.create("meeting", "me", {**MEETING, "settings": {}})["id"]  # auto_recording "none"
    fake_zoom.end_meeting(meeting, ended_at=clock.wall, participants=[])
    clock.advance(days=1)

    assert fetch_recording(zoom, meeting) is None
    fake_zoom.fail_next(400, code=300, message="Invalid field.", path=f"/v2/meetings/{meeting}/recordings")
    with pytest.raises(ZoomApiError):  # anything but "no recording" is an error to see
        fetch_recording(zoom, meeting)


def test_recording_from_zoom_own_shape():
    """Zoom sends `type` as a number and files without a status (TIMELINE); both are read."""
    recording = recording_from({
        "uuid": "gkABCDEbbbbbbbkPuA==", "id": 68000000031879, "type": 2, "topic": "T",
        "start_time": "2019-08-29T21:54:49Z", "share_url": "https://zoom.us/rec/share/x?startTime=1",
        "password": "981651", "recording_play_passcode": "yNYIS408",
        "recording_files": [
            {"id": "a", "file_type": "MP4", "status": "completed", "file_size": 37285},
            {"file_type": "TIMELINE", "download_url": "https://zoom.us/rec/download/t"},
        ],
    })

    assert recording.is_ready and recording.start_time is not None and recording.start_time.year == 2019
    assert recording.url_with_passcode() == "https://zoom.us/rec/share/x?startTime=1&pwd=yNYIS408"
    assert recording_from({"recording_files": []}).is_completed is False


# -- a slow Zoom -------------------------------------------------------------------------------------


def test_a_slow_zoom_is_waited_for_within_the_timeouts(zoom, fake_zoom, clock):
    webinar = _webinar(zoom)
    meeting = zoom.create("meeting", "me", MEETING)["id"]
    fake_zoom.end_meeting(meeting, ended_at=clock.wall, participants=[])
    clock.advance(hours=2)
    fake_zoom.quirks.slow_answers = 0.3  # the client reads for up to 5 s

    added = add_panelists(zoom, webinar, _people(2)).added
    assert remove_panelist(zoom, webinar, added[0].id) is True
    assert fetch_recording(zoom, meeting) is not None
    assert all(r.status < 300 for r in fake_zoom.recorded[-5:])


def test_a_zoom_slower_than_the_read_timeout_is_retried_without_doubling_panelists(fake_zoom, clock):
    impatient = Zoom(Credentials(fake_zoom.account_id, fake_zoom.client_id, Secret(fake_zoom.client_secret)),
                     api_url=fake_zoom.api_url, oauth_url=fake_zoom.oauth_url, timeout=(2.0, 0.1),
                     retry=RetryPolicy(max_attempts=3), clock=clock.monotonic, sleep=clock.sleep,
                     now=clock.now, rng=random.Random(7))
    webinar = _webinar(impatient)
    fake_zoom.quirks.slow_answers = 0.3

    with pytest.raises(ZoomUnavailable):
        impatient.post_panelists(webinar, _people(1))

    impatient.session.close()
    assert len(_posted(fake_zoom, webinar)) == 3  # each attempt reached Zoom...
    assert len(fake_zoom.panelists(webinar)) == 1  # ...and the same email stays one panelist


def test_slow_answers_from_the_command_line(fake_zoom):
    said = configure(fake_zoom, parse_args(["--slow-answers", "1.5"]))

    assert fake_zoom.quirks.slow_answers == 1.5
    assert said == ["every API call: answered after 1.5 s"]

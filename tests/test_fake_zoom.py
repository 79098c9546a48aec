"""The fake Zoom over real loopback HTTP: tokens, meetings, registrants, panelists, reports, recordings,
faults, and conformance of its exchanges to Zoom's OpenAPI document."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import requests

from opsflow.sandbox.zoom import FakeZoom
from tests.zoomspec import SPEC_FILE, check_exchange, spec_path

UTC = timezone.utc
NOW = datetime(2027, 1, 14, 3, 0, tzinfo=UTC)
START = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=90)
JSON = "application/json;charset=UTF-8"
MEETING = {
    "topic": "第12回 オンラインセミナー", "type": 2, "start_time": "2027-01-21T09:00:00Z", "duration": 90,
    "timezone": "Asia/Tokyo", "agenda": "講演と質疑応答",
    "settings": {"approval_type": 0, "registration_type": 1, "registrants_email_notification": False,
                 "registrants_confirmation_email": False, "waiting_room": True},
    "tracking_fields": [{"field": "series", "value": "opsflow"}],
}
needs_spec = pytest.mark.skipif(spec_path() is None, reason=f"Zoom's OpenAPI document not found at {SPEC_FILE}")


class Clock:
    """The fake's "now", moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """A requests session holding a valid token for one FakeZoom."""

    def __init__(self, zoom: FakeZoom) -> None:
        self.zoom = zoom
        self.session = requests.Session()
        self.refresh()

    def refresh(self) -> None:
        """A new token, as a client does after the fake's clock has moved past the old one's hour."""
        self.session.headers["Authorization"] = f"Bearer {fetch_token(self.zoom).json()['access_token']}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.zoom.api_url + path, **kwargs)

    def create(self, collection: str = "meetings", **changes: Any) -> dict:
        body = {**MEETING, **changes}
        if collection == "webinars":
            body["type"] = changes.get("type", 5)
        response = self("POST", f"/users/me/{collection}", json=body)
        assert response.status_code == 201, response.text
        return response.json()


def fetch_token(zoom: FakeZoom, *, account_id: str = "fake-account", client_id: str = "fake-client-id",
                secret: str = "fake-client-secret") -> requests.Response:
    return requests.post(zoom.oauth_url, params={"grant_type": "account_credentials", "account_id": account_id},
                         auth=(client_id, secret), timeout=5)


def segment(name: str, email: str, joined: int, left: int, **extra: Any) -> dict:
    """A join/leave segment, minutes after START."""
    return {"name": name, "user_email": email, "join_time": START + timedelta(minutes=joined),
            "leave_time": START + timedelta(minutes=left), **extra}


def error(response: requests.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def zoom(clock: Clock):
    with FakeZoom(clock=clock) as fake:
        yield fake


@pytest.fixture
def api(zoom: FakeZoom):
    client = Api(zoom)
    yield client
    client.session.close()


# -- tokens ------------------------------------------------------------------------------------------


def test_token_is_issued_for_the_right_credentials(zoom):
    response = fetch_token(zoom)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert body["api_url"] == zoom.base_url
    assert "meeting:write:admin" in body["scope"].split()
    assert zoom.tokens_issued == 1
    listing = requests.get(zoom.api_url + "/users/me/meetings", timeout=5,
                           headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listing.status_code == 200


def test_wrong_credentials_and_wrong_account_are_refused(zoom):
    wrong_secret = fetch_token(zoom, secret="nope")
    wrong_account = fetch_token(zoom, account_id="other")

    assert wrong_secret.status_code == 400
    assert wrong_secret.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    assert wrong_account.status_code == 400
    assert wrong_account.json() == {"reason": "Invalid account_id", "error": "invalid_request"}
    assert zoom.tokens_issued == 0


def test_api_calls_need_a_valid_token(zoom, api, clock):
    assert error(requests.get(zoom.api_url + "/users/me/meetings", timeout=5)) == (
        401, 124, "Invalid access token.")

    zoom.expire_tokens()
    assert error(api("GET", "/users/me/meetings")) == (401, 124, "Invalid access token.")

    fresh = Api(zoom)
    assert fresh("GET", "/users/me/meetings").status_code == 200
    clock.advance(seconds=3599)
    assert error(fresh("GET", "/users/me/meetings")) == (401, 124, "Access token is expired.")


# -- meetings ----------------------------------------------------------------------------------------


def test_meeting_is_created_read_updated_and_deleted(zoom, api):
    created = api.create()

    assert 10**10 <= created["id"] < 10**11
    assert len(created["uuid"]) == 24 and created["uuid"].endswith("==")
    assert created["start_time"] == "2027-01-21T09:00:00Z"
    assert created["status"] == "waiting"
    assert created["join_url"].startswith(f"https://zoom.us/j/{created['id']}?pwd=")
    assert created["registration_url"].startswith("https://zoom.us/meeting/register/")
    assert created["settings"]["approval_type"] == 0 and created["settings"]["waiting_room"] is True
    assert created["tracking_fields"] == MEETING["tracking_fields"]
    assert api("GET", f"/meetings/{created['id']}").json() == created

    patched = api("PATCH", f"/meetings/{created['id']}",
                  json={"topic": "変更後", "start_time": "2027-01-21T19:00:00", "settings": {"approval_type": 2}})
    assert patched.status_code == 204 and patched.content == b""
    after = api("GET", f"/meetings/{created['id']}").json()
    assert after["topic"] == "変更後"
    assert after["start_time"] == "2027-01-21T10:00:00Z"  # wall time in Asia/Tokyo
    assert after["settings"]["approval_type"] == 2 and after["settings"]["waiting_room"] is True
    assert "registration_url" not in after

    deleted = api("DELETE", f"/meetings/{created['id']}", params={"schedule_for_reminder": "false"})
    assert deleted.status_code == 204
    assert created["id"] not in zoom.meetings
    assert error(api("GET", f"/meetings/{created['id']}")) == (
        404, 3001, f"Meeting does not exist: {created['id']}.")


def test_meeting_for_an_unknown_user_is_refused(api):
    assert error(api("POST", "/users/someone@example.jp/meetings", json=MEETING)) == (
        404, 1001, "User does not exist: someone@example.jp.")
    assert api("POST", "/users/host@example.jp/meetings", json=MEETING).status_code == 201


@pytest.mark.parametrize(("field", "limit"), [("topic", 200), ("agenda", 2000)])
def test_meeting_text_limits(api, field, limit):
    assert api("POST", "/users/me/meetings", json={**MEETING, field: "あ" * limit}).status_code == 201

    status, code, _ = error(api("POST", "/users/me/meetings", json={**MEETING, field: "あ" * (limit + 1)}))

    assert (status, code) == (400, 300)


def test_meeting_list_is_paged_by_next_page_token(api, clock):
    created = {api.create(topic=f"回{n}")["id"] for n in range(35)}

    first = api("GET", "/users/me/meetings", params={"type": "scheduled", "page_size": 30}).json()
    second = api("GET", "/users/me/meetings",
                 params={"page_size": 30, "next_page_token": first["next_page_token"]}).json()

    assert (len(first["meetings"]), first["total_records"], first["page_size"]) == (30, 35, 30)
    assert first["next_page_token"]
    assert (len(second["meetings"]), second["next_page_token"]) == (5, "")
    assert {m["id"] for m in first["meetings"] + second["meetings"]} == created
    assert set(first["meetings"][0]) >= {"uuid", "id", "host_id", "topic", "type", "start_time", "duration",
                                         "timezone", "agenda", "created_at", "join_url"}
    clock.advance(minutes=16)
    stale = api("GET", "/users/me/meetings", params={"next_page_token": first["next_page_token"]})
    assert error(stale)[:2] == (400, 300)


# -- registrants -------------------------------------------------------------------------------------


def test_batch_registration_takes_at_most_30(zoom, api):
    meeting = api.create()
    people = [{"email": f"p{n}@example.jp", "first_name": f"名{n}", "last_name": "試験"} for n in range(31)]
    path = f"/meetings/{meeting['id']}/batch_registrants"

    too_many = api("POST", path, json={"auto_approve": True, "registrants": people})
    accepted = api("POST", path, json={"auto_approve": True, "registrants_confirmation_email": False,
                                       "registrants": people[:30]})

    assert error(too_many)[:2] == (400, 300)
    assert accepted.status_code == 201
    rows = accepted.json()["registrants"]
    assert [r["email"] for r in rows] == [p["email"] for p in people[:30]]
    assert all(r["registrant_id"] and r["join_url"].startswith("https://zoom.us/w/") for r in rows)
    assert len(zoom.registrants(meeting["id"])) == 30


def test_registrant_is_added_listed_and_cancelled(zoom, api):
    meeting = api.create()
    path = f"/meetings/{meeting['id']}/registrants"

    added = api("POST", path, json={"email": "taro@example.jp", "first_name": "太郎", "last_name": "山田"})
    again = api("POST", path, json={"email": "TARO@example.jp", "first_name": "太郎"})

    assert added.status_code == 201
    body = added.json()
    assert (body["id"], body["topic"], body["start_time"]) == (meeting["id"], meeting["topic"], meeting["start_time"])
    assert again.json()["registrant_id"] == body["registrant_id"]
    approved = api("GET", path, params={"status": "approved", "page_size": 30}).json()
    assert approved["total_records"] == 1
    row = approved["registrants"][0]
    assert (row["id"], row["email"], row["first_name"], row["last_name"], row["status"]) == (
        body["registrant_id"], "taro@example.jp", "太郎", "山田", "approved")
    assert row["join_url"] == body["join_url"] and row["create_time"] == "2027-01-14T03:00:00Z"

    cancelled = api("PUT", f"{path}/status",
                    json={"action": "cancel", "registrants": [{"id": body["registrant_id"]}]})

    assert cancelled.status_code == 204
    assert api("GET", path).json()["registrants"] == []
    assert [r["status"] for r in zoom.registrants(meeting["id"])] == ["denied"]


def test_manual_approval_keeps_registrants_pending_until_approved(zoom, api):
    meeting = api.create(settings={"approval_type": 1})
    path = f"/meetings/{meeting['id']}/registrants"
    api("POST", path, json={"email": "a@example.jp", "first_name": "A"})

    assert api("GET", path, params={"status": "pending"}).json()["total_records"] == 1
    api("PUT", f"{path}/status", json={"action": "approve", "registrants": [{"email": "a@example.jp"}]})
    assert api("GET", path).json()["registrants"][0]["status"] == "approved"


def test_registration_needs_approval_type_0_or_1_and_batch_a_scheduled_meeting(api):
    closed = api.create(settings={"approval_type": 2})
    recurring = api.create(type=8, settings={"approval_type": 0})
    person = {"email": "a@example.jp", "first_name": "A"}

    assert error(api("POST", f"/meetings/{closed['id']}/registrants", json=person)) == (
        404, 404, f"Registration has not been enabled for this meeting: {closed['id']}.")
    assert error(api("POST", f"/meetings/{recurring['id']}/batch_registrants",
                     json={"registrants": [person]}))[:2] == (400, 303)


def test_webinars_have_the_same_surface(zoom, api):
    webinar = api.create("webinars")
    batch = api("POST", f"/webinars/{webinar['id']}/batch_registrants",
                json={"auto_approve": True, "registrants": [{"email": "w@example.jp", "first_name": "W"}]})

    assert webinar["type"] == 5 and webinar["id"] in zoom.webinars
    assert batch.status_code == 201
    assert api("GET", f"/webinars/{webinar['id']}/registrants").json()["total_records"] == 1
    assert error(api("GET", f"/meetings/{webinar['id']}"))[:2] == (404, 3001)
    assert api("GET", "/users/me/webinars").json()["webinars"][0]["id"] == webinar["id"]


# -- panelists --------------------------------------------------------------------------------------


def test_panelists_are_added_listed_and_removed(zoom, api, clock):
    webinar = api.create("webinars")
    path = f"/webinars/{webinar['id']}/panelists"
    people = [{"name": f"講師{n}", "email": f"s{n}@example.jp"} for n in range(31)]

    too_many = api("POST", path, json={"panelists": people})
    added = api("POST", path, json={"panelists": people[:2]})
    renamed = api("POST", path, json={"panelists": [{"name": "講師ゼロ", "email": "S0@example.jp"}]})
    listed = api("GET", path).json()

    assert error(too_many) == (400, 300, "The number of panelists can not exceed 30.")
    assert added.status_code == 201 and added.json() == {"id": str(webinar["id"]), "updated_at": "2027-01-14T03:00:00Z"}
    assert renamed.status_code == 201
    assert listed["total_records"] == 2 and "next_page_token" not in listed
    first, second = listed["panelists"]
    assert (first["name"], first["email"], second["email"]) == ("講師ゼロ", "s0@example.jp", "s1@example.jp")
    assert set(first) == {"id", "name", "email", "join_url"} and first["join_url"].startswith("https://zoom.us/w/")
    assert zoom.panelists(webinar["id"]) == listed["panelists"]

    assert api("DELETE", f"{path}/{first['id']}").status_code == 204
    assert error(api("DELETE", f"{path}/{first['id']}")) == (
        404, 1001, f"User {first['id']} does not exist or does not belong to this account.")
    assert api("DELETE", f"{path}/{quote('S1@example.jp', safe='')}").status_code == 204
    api("POST", path, json={"panelists": people[5:7]})
    assert api("DELETE", path).status_code == 204
    assert api("GET", path).json() == {"total_records": 0, "panelists": []}


def test_panelists_need_a_webinar_a_name_and_an_email(api):
    meeting = api.create()
    webinar = api.create("webinars")
    path = f"/webinars/{webinar['id']}/panelists"

    assert error(api("GET", f"/webinars/{meeting['id']}/panelists")) == (
        404, 3001, f"Webinar does not exist: {meeting['id']}.")
    assert error(api("POST", path, json={"panelists": [{"email": "a@example.jp"}]}))[:2] == (400, 300)
    assert error(api("POST", path, json={"panelists": [{"name": "A", "email": "not-an-email"}]}))[:2] == (400, 300)
    assert error(api("POST", path, json={"panelists": []}))[:2] == (400, 300)


def test_a_webinar_takes_at_most_100_panelists(api):
    webinar = api.create("webinars")
    path = f"/webinars/{webinar['id']}/panelists"
    for batch in range(4):
        people = [{"name": "P", "email": f"p{batch}-{n}@example.jp"} for n in range(25)]
        assert api("POST", path, json={"panelists": people}).status_code == 201

    over = api("POST", path, json={"panelists": [{"name": "P", "email": "one-more@example.jp"}]})
    again = api("POST", path, json={"panelists": [{"name": "Q", "email": "p0-0@example.jp"}]})

    assert error(over) == (400, 3000, "You have reached the limit for the number of panelists you can add. "
                                      "Contact Zoom Support for more information.")
    assert again.status_code == 201  # someone already there is not one more


# -- reports -----------------------------------------------------------------------------------------


def test_report_is_not_found_until_the_delay_has_passed(zoom, api, clock):
    meeting = api.create()
    registrant = api("POST", f"/meetings/{meeting['id']}/registrants",
                     json={"email": "hanako@example.jp", "first_name": "花子"}).json()["registrant_id"]
    zoom.end_meeting(meeting["id"], ended_at=END, participants=[
        segment("花子", "hanako@example.jp", 0, 20, registrant_id=registrant),
        segment("花子", "hanako@example.jp", 25, 90, registrant_id=registrant),
        segment("ゲスト", "", 5, 10, status="in_waiting_room"),
    ])
    path = f"/report/meetings/{meeting['id']}/participants"

    clock.now = END + timedelta(minutes=29, seconds=59)
    api.refresh()
    assert error(api("GET", path)) == (404, 3001, f"Meeting does not exist: {meeting['id']}.")

    clock.now = END + timedelta(minutes=30)
    plain = api("GET", path, params={"page_size": 300}).json()
    with_ids = api("GET", path, params={"include_fields": "registrant_id"}).json()

    rows = plain["participants"]
    assert [(r["name"], r["join_time"], r["duration"], r["status"]) for r in rows] == [
        ("花子", "2027-01-21T09:00:00Z", 1200, "in_meeting"),
        ("ゲスト", "2027-01-21T09:05:00Z", 300, "in_waiting_room"),
        ("花子", "2027-01-21T09:25:00Z", 3900, "in_meeting"),
    ]
    assert rows[1]["user_email"] == "" and rows[0]["customer_key"] == ""
    assert all("registrant_id" not in r for r in rows)
    assert [r["registrant_id"] for r in with_ids["participants"]] == [registrant, "", registrant]


def test_report_of_1000_rows_comes_in_4_pages(zoom, api, clock):
    meeting = api.create()
    people = [segment(f"参加者{n}", f"u{n}@example.jp", 0, 60) for n in range(1000)]
    zoom.end_meeting(meeting["id"], ended_at=END, participants=people)
    clock.now = END + timedelta(hours=1)
    api.refresh()

    sizes, token = [], None
    while token != "":
        params = {"page_size": 300, **({"next_page_token": token} if token else {})}
        page = api("GET", f"/report/meetings/{meeting['id']}/participants", params=params).json()
        sizes.append(len(page["participants"]))
        token = page["next_page_token"]
        assert page["total_records"] == 1000

    assert sizes == [300, 300, 300, 100]


def test_instance_uuid_with_slashes_must_be_encoded_twice(zoom, api, clock):
    meeting = api.create()
    uuid = zoom.end_meeting(meeting["id"], ended_at=END, uuid="/ab//cd==",
                            participants=[segment("A", "a@example.jp", 0, 90)])
    clock.now = END + timedelta(hours=1)
    api.refresh()
    twice = quote(quote(uuid, safe=""), safe="")

    assert twice == "%252Fab%252F%252Fcd%253D%253D"
    assert api("GET", f"/report/meetings/{twice}/participants").json()["total_records"] == 1
    assert api("GET", f"/past_meetings/{twice}/participants").json()["total_records"] == 1
    assert error(api("GET", f"/report/meetings/{quote(uuid, safe='')}/participants")) == (
        404, 3001, "Meeting does not exist: /ab//cd==.")
    instances = api("GET", f"/past_meetings/{meeting['id']}/instances").json()["meetings"]
    assert [i["uuid"] for i in instances] == ["/ab//cd=="]
    assert api("GET", f"/meetings/{meeting['id']}").json()["uuid"] != uuid  # the next instance's


def test_past_participants_are_there_right_after_the_end(zoom, api):
    meeting = api.create()
    path = f"/past_meetings/{meeting['id']}/participants"
    assert error(api("GET", path)) == (404, 3001, "Meeting ID is invalid or not end.")

    uuid = zoom.end_meeting(meeting["id"], ended_at=END, participants=[segment("A", "a@example.jp", 0, 90)])

    assert api("GET", path).json()["participants"][0]["duration"] == 5400
    assert api("GET", f"/past_meetings/{quote(uuid, safe='')}/participants").status_code == 200


def test_webinar_report_is_under_report_webinars(zoom, api, clock):
    webinar = api.create("webinars")
    zoom.end_meeting(webinar["id"], ended_at=END, participants=[segment("W", "", 0, 90)])
    clock.now = END + timedelta(minutes=30)
    api.refresh()

    assert api("GET", f"/report/webinars/{webinar['id']}/participants").json()["total_records"] == 1
    assert error(api("GET", f"/report/meetings/{webinar['id']}/participants"))[:2] == (404, 3001)


# -- recordings --------------------------------------------------------------------------------------


def test_recording_is_processing_after_the_end_then_completed(zoom, api, clock):
    meeting = api.create(settings={"auto_recording": "cloud"})
    path = f"/meetings/{meeting['id']}/recordings"
    no_recording = (404, 3301, "There is no recording for this meeting.")
    assert error(api("GET", path)) == no_recording
    uuid = zoom.end_meeting(meeting["id"], ended_at=END, participants=[segment("A", "a@example.jp", 0, 90)])

    assert error(api("GET", path)) == no_recording  # the clock is still before the end
    clock.now = END
    api.refresh()
    processing = api("GET", path).json()
    clock.now = END + timedelta(hours=1)
    api.refresh()
    completed = api("GET", f"/meetings/{quote(uuid, safe='')}/recordings").json()

    assert processing["uuid"] == uuid and processing["id"] == meeting["id"] and "share_url" not in processing
    assert [f["status"] for f in processing["recording_files"]] == ["processing", "processing"]
    assert completed["share_url"].startswith("https://zoom.us/rec/share/")
    assert (completed["password"], completed["type"], completed["duration"]) == (processing["password"], "2", 90)
    assert [(f["file_type"], f["status"]) for f in completed["recording_files"]] == [
        ("MP4", "completed"), ("M4A", "completed")]
    assert completed["total_size"] == sum(f["file_size"] for f in completed["recording_files"]) > 0


def test_recording_of_an_unrecorded_or_unknown_meeting_is_3301(zoom, api, clock):
    meeting = api.create()  # auto_recording "none"
    zoom.end_meeting(meeting["id"], ended_at=END, participants=[])
    clock.now = END + timedelta(days=1)
    api.refresh()

    assert error(api("GET", f"/meetings/{meeting['id']}/recordings"))[:2] == (404, 3301)
    assert error(api("GET", "/meetings/1/recordings"))[:2] == (404, 3301)


# -- survey ------------------------------------------------------------------------------------------


def test_survey_link_is_at_most_64_characters(api):
    meeting = api.create()
    path = f"/meetings/{meeting['id']}/survey"
    url = "https://example.jp/survey?id="
    longest = url + "x" * (64 - len(url))

    accepted = api("PATCH", path, json={"show_in_the_browser": False, "third_party_survey": longest})
    refused = api("PATCH", path, json={"third_party_survey": longest + "x"})

    assert accepted.status_code == 204
    assert error(refused) == (400, 300, f"Invalid third party survey: {longest}x.")
    assert api("GET", path).json() == {"show_in_the_browser": False, "third_party_survey": longest}


# -- faults ------------------------------------------------------------------------------------------


def test_fail_next_answers_with_zoom_errors_then_recovers(zoom, api):
    meeting = api.create()
    zoom.fail_next(503, times=2)
    zoom.fail_next(400, code=4700, message="Invalid access token, does not contain scopes.",
                   path="/v2/report", headers={"X-Extra": "1"})

    assert fetch_token(zoom).status_code == 200  # a fault without a path leaves token requests alone
    assert error(api("GET", f"/meetings/{meeting['id']}")) == (503, 503, "Service Unavailable")
    assert error(api("GET", f"/meetings/{meeting['id']}")) == (503, 503, "Service Unavailable")
    assert api("GET", f"/meetings/{meeting['id']}").status_code == 200
    report = api("GET", f"/report/meetings/{meeting['id']}/participants")
    assert error(report) == (400, 4700, "Invalid access token, does not contain scopes.")
    assert report.headers["X-Extra"] == "1"


def test_rate_limit_next_sets_zoom_headers(zoom, api, clock):
    meeting = api.create()
    zoom.rate_limit_next(method="GET")
    zoom.rate_limit_next(kind="Daily-limit", path="/v2/report/")
    zoom.rate_limit_next(kind="Daily-limit", path="/v2/users/me/meetings", retry_after="2027-01-15T00:00:00Z")

    qps = api("GET", f"/meetings/{meeting['id']}")
    daily = api("GET", f"/report/meetings/{meeting['id']}/participants")
    create = api("POST", "/users/me/meetings", json=MEETING)

    assert error(qps) == (429, 429, "You have reached the maximum per-second rate limit for this API. "
                                    "Try again later.")
    assert {k: qps.headers[k] for k in ("X-RateLimit-Category", "X-RateLimit-Type", "X-RateLimit-Limit",
                                        "X-RateLimit-Remaining")} == {
        "X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "30",
        "X-RateLimit-Remaining": "0"}
    assert "Retry-After" not in qps.headers
    assert daily.status_code == 429 and "daily rate limit" in daily.json()["message"]
    assert (daily.headers["X-RateLimit-Category"], daily.headers["X-RateLimit-Type"]) == ("Heavy", "Daily-limit")
    assert daily.headers["Retry-After"] == "2027-01-15T00:00:00Z"  # next 00:00 UTC of the fake's clock
    assert (create.headers["X-RateLimit-Category"], create.headers["X-RateLimit-Limit"]) == ("Medium", "100")
    assert api("GET", f"/meetings/{meeting['id']}").status_code == 200


def test_reset_next_drops_the_connection(zoom, api):
    zoom.reset_next(path="/v2/users/me/meetings")

    with pytest.raises(requests.ConnectionError):
        api("GET", "/users/me/meetings")
    assert zoom.recorded[-1].status == 0
    assert api("GET", "/users/me/meetings").status_code == 200


def test_delay_next_times_the_client_out_although_the_meeting_exists(zoom, api):
    zoom.delay_next(0.4, method="POST")

    with pytest.raises(requests.ReadTimeout):
        api("POST", "/users/me/meetings", json=MEETING, timeout=0.2)

    assert [m["topic"] for m in zoom.meetings.values()] == [MEETING["topic"]]
    assert zoom.count("POST", "/v2/users/me/meetings") == 1


# -- recording and headers ---------------------------------------------------------------------------


def test_every_exchange_is_recorded_and_counted(zoom, api):
    meeting = api.create()
    api("GET", f"/meetings/{meeting['id']}", params={"show_previous_occurrences": "true"})
    unknown = api("GET", "/users/me/recordings")

    assert unknown.status_code == 404 and unknown.json() == {"code": 404, "message": "Not found"}
    assert zoom.count() == 4
    assert zoom.count("POST", "/oauth/token") == 1
    assert zoom.count(method="get", prefix="/v2/meetings/") == 1
    assert zoom.count(prefix="/v2/users/me/") == 2
    read = zoom.recorded[2]
    assert (read.method, read.path, read.query) == ("GET", f"/v2/meetings/{meeting['id']}",
                                                    {"show_previous_occurrences": "true"})
    assert read.headers["Authorization"].startswith("Bearer ")
    assert read.status == 200 and read.response_body and read.response_headers["Content-Type"] == JSON


def test_responses_carry_a_tracking_id_and_json_type_only_with_a_body(api):
    meeting = api.create()
    read = api("GET", f"/meetings/{meeting['id']}")
    patched = api("PATCH", f"/meetings/{meeting['id']}", json={"duration": 60})
    missing = api("GET", "/meetings/1")

    assert read.headers["Content-Type"] == JSON and missing.headers["Content-Type"] == JSON
    assert "Content-Type" not in patched.headers
    assert all(r.headers["x-zm-trackingid"].startswith("v=2.0;") for r in (read, patched, missing))
    assert read.headers["x-zm-trackingid"] != missing.headers["x-zm-trackingid"]


# -- conformance to Zoom's OpenAPI document ----------------------------------------------------------


def _scripted_session(zoom: FakeZoom, api: Api, clock: Clock) -> None:
    """Every endpoint opsflow uses, answered successfully."""
    meeting = api.create()
    mid = meeting["id"]
    api("GET", f"/meetings/{mid}")
    api("GET", "/users/me/meetings", params={"type": "upcoming", "page_size": 30})
    api("PATCH", f"/meetings/{mid}", json={"topic": "変更", "agenda": "新しい議題", "duration": 120})
    one = api("POST", f"/meetings/{mid}/registrants",
              json={"email": "one@example.jp", "first_name": "一郎", "last_name": "鈴木"}).json()
    api("POST", f"/meetings/{mid}/batch_registrants", json={
        "auto_approve": True, "registrants_confirmation_email": False,
        "registrants": [{"email": f"b{n}@example.jp", "first_name": "B", "last_name": str(n)} for n in range(3)]})
    api("GET", f"/meetings/{mid}/registrants", params={"status": "approved", "page_size": 300})
    api("PUT", f"/meetings/{mid}/registrants/status",
        json={"action": "cancel", "registrants": [{"id": one["registrant_id"], "email": "one@example.jp"}]})
    api("PATCH", f"/meetings/{mid}/survey",
        json={"show_in_the_browser": True, "third_party_survey": "https://example.jp/s/1"})
    api("GET", f"/meetings/{mid}/survey")
    webinar = api.create("webinars")
    wid = webinar["id"]
    api("GET", f"/webinars/{wid}")
    api("GET", "/users/me/webinars", params={"type": "scheduled", "page_size": 30})
    api("PATCH", f"/webinars/{wid}", json={"topic": "ウェビナー"})
    api("POST", f"/webinars/{wid}/registrants", json={"email": "w@example.jp", "first_name": "W"})
    api("POST", f"/webinars/{wid}/batch_registrants",
        json={"auto_approve": True, "registrants": [{"email": "v@example.jp", "first_name": "V"}]})
    api("GET", f"/webinars/{wid}/registrants", params={"status": "approved"})
    api("PUT", f"/webinars/{wid}/registrants/status",
        json={"action": "approve", "registrants": [{"email": "w@example.jp"}]})
    uuid = zoom.end_meeting(mid, ended_at=END, uuid="/ab//cd==", is_recorded=True, participants=[
        segment("一郎", "one@example.jp", 0, 30, registrant_id=one["registrant_id"]),
        segment("一郎", "one@example.jp", 35, 90, registrant_id=one["registrant_id"]),
        segment("ゲスト", "", 0, 90)])
    api("POST", f"/webinars/{wid}/panelists", json={"panelists": [
        {"name": "講師一", "email": "p1@example.jp"}, {"name": "講師二", "email": "p2@example.jp"}]})
    panelists = api("GET", f"/webinars/{wid}/panelists").json()["panelists"]
    api("DELETE", f"/webinars/{wid}/panelists/{panelists[0]['id']}")
    api("DELETE", f"/webinars/{wid}/panelists")
    zoom.end_meeting(wid, ended_at=END, participants=[segment("W", "w@example.jp", 0, 90)], is_recorded=True)
    api("GET", f"/past_meetings/{mid}/instances")
    api("GET", f"/past_meetings/{quote(quote(uuid, safe=''), safe='')}/participants", params={"page_size": 300})
    clock.now = END + timedelta(minutes=30)
    api.refresh()
    api("GET", f"/report/meetings/{mid}/participants", params={"page_size": 300, "include_fields": "registrant_id"})
    api("GET", f"/report/webinars/{wid}/participants", params={"page_size": 300})
    api("GET", f"/meetings/{mid}/recordings")  # processing
    clock.now = END + timedelta(hours=1)
    api.refresh()
    api("GET", f"/meetings/{quote(quote(uuid, safe=''), safe='')}/recordings")  # completed
    api("GET", f"/meetings/{wid}/recordings")
    api("DELETE", f"/meetings/{mid}", params={"schedule_for_reminder": "false", "cancel_meeting_reminder": "true"})
    api("DELETE", f"/webinars/{wid}")


@needs_spec
def test_scripted_session_conforms_to_zoom_openapi(zoom, api, clock):
    _scripted_session(zoom, api, clock)

    assert [r.status for r in zoom.recorded if r.status >= 300] == []
    violations = [v for r in zoom.recorded for v in check_exchange(r)]
    assert violations == []


@needs_spec
def test_check_exchange_reports_what_zoom_would_refuse(api):
    api("POST", "/users/me/meetings", json={**MEETING, "topic": "x" * 201, "type": "2"})
    api("GET", "/users/me/meetings", params={"page_size": 500})
    api("GET", "/webinars/not-a-number/panelists")

    refused, oversized, named = api.zoom.recorded[-3:]
    assert any("at topic" in v for v in check_exchange(refused))
    assert any("at type" in v for v in check_exchange(refused))
    assert any("page_size" in v for v in check_exchange(oversized))
    assert any("webinarId" in v for v in check_exchange(named))

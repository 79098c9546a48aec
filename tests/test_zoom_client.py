"""The Zoom client against the fake Zoom on loopback: auth, retries, pacing, pagination, errors."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from opsflow.core.config import Secret
from opsflow.core.errors import (
    InputError, ZoomApiError, ZoomAuthError, ZoomNotFoundError, ZoomOutcomeUnknown, ZoomPlanError,
    ZoomRateLimited, ZoomReportNotReady, ZoomScopeError, ZoomUnavailable,
)
from opsflow.zoom import Credentials, RetryPolicy, Zoom
from opsflow.zoom.client import encode_id

BODY = {"topic": "テストセミナー", "type": 2, "start_time": "2027-01-21T09:00:00Z", "duration": 90,
        "timezone": "Asia/Tokyo", "agenda": "[opsflow t]", "settings": {"approval_type": 0, "registration_type": 1}}
MEETINGS = "/v2/users/me/meetings"


def _meeting(zoom: Zoom) -> dict:
    return zoom.create("meeting", "me", BODY)


def test_one_token_for_many_calls(zoom, fake_zoom):
    made = _meeting(zoom)
    for _ in range(5):
        assert zoom.get("meeting", made["id"])["topic"] == "テストセミナー"
    assert (fake_zoom.tokens_issued, zoom.token_requests) == (1, 1)
    assert fake_zoom.count("POST", "/oauth/token") == 1


def test_token_renewed_before_it_expires(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    clock.advance(minutes=59)  # the token lasts 3599 s; opsflow renews a minute early
    zoom.get("meeting", made["id"])
    assert fake_zoom.tokens_issued == 2
    assert fake_zoom.count(path=f"/v2/meetings/{made['id']}") == 1  # no 401 on the way


def test_token_rejected_mid_run_is_renewed_once(zoom, fake_zoom):
    made = _meeting(zoom)
    fake_zoom.expire_tokens()
    assert zoom.get("meeting", made["id"])["id"] == made["id"]
    assert fake_zoom.tokens_issued == 2
    statuses = [r.status for r in fake_zoom.recorded if r.path == f"/v2/meetings/{made['id']}"]
    assert statuses == [401, 200]


def test_bad_credentials(fake_zoom, clock):
    client = Zoom(Credentials(fake_zoom.account_id, fake_zoom.client_id, Secret("wrong-secret-123")),
                  api_url=fake_zoom.api_url, oauth_url=fake_zoom.oauth_url, clock=clock.monotonic,
                  sleep=clock.sleep, now=clock.now)
    with pytest.raises(ZoomAuthError) as err:
        client.get("meeting", 1)
    assert str(err.value) == (
        "Zoom refused the app credentials (Invalid client_id or client_secret): check OPSFLOW_ZOOM_ACCOUNT_ID, "
        "OPSFLOW_ZOOM_CLIENT_ID and OPSFLOW_ZOOM_CLIENT_SECRET against your Server-to-Server OAuth app")
    assert "wrong-secret-123" not in repr(client) + str(err.value) + repr(err.value.__dict__)
    assert fake_zoom.count("POST", "/oauth/token") == 1  # a refusal is not retried


def test_per_second_429_waits_as_told_and_retries(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    fake_zoom.rate_limit_next(kind="QPS", times=2, path=f"/v2/meetings/{made['id']}", retry_after="2")
    before = list(clock.slept)
    assert zoom.get("meeting", made["id"])["id"] == made["id"]
    assert fake_zoom.count("GET", f"/v2/meetings/{made['id']}") == 3
    assert [s for s in clock.slept[len(before):] if s >= 1] == [2.0, 2.0]


def test_daily_limit_is_raised_with_its_reset_time(zoom, fake_zoom, clock):
    fake_zoom.rate_limit_next(kind="Daily-limit", path=MEETINGS)
    with pytest.raises(ZoomRateLimited) as err:
        _meeting(zoom)
    reset = datetime(2027, 1, 22, 0, 0, tzinfo=timezone.utc)
    assert err.value.retry_at == reset
    assert str(err.value).startswith(
        "Zoom's rate limit reached for POST /v2/users/me/meetings (the daily Medium limit); "
        "try again after 2027-01-22 00:00 UTC")
    assert fake_zoom.count("POST", MEETINGS) == 1 and fake_zoom.meetings == {}


def test_5xx_is_retried_with_backoff(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    fake_zoom.fail_next(502, times=2, path=f"/v2/meetings/{made['id']}")
    assert zoom.get("meeting", made["id"])["id"] == made["id"]
    assert fake_zoom.count("GET", f"/v2/meetings/{made['id']}") == 3


def test_5xx_that_persists_stops_at_the_attempt_limit(fake_zoom, zoom):
    made = _meeting(zoom)
    fake_zoom.fail_next(500, code=None, message="Internal error", times=50, path=f"/v2/meetings/{made['id']}")
    with pytest.raises(ZoomUnavailable) as err:
        zoom.get("meeting", made["id"])
    assert fake_zoom.count("GET", f"/v2/meetings/{made['id']}") == RetryPolicy().max_attempts
    assert str(err.value).startswith(f"Zoom answered HTTP 500 to GET /v2/meetings/{made['id']} 6 times")


def test_retries_stop_at_the_deadline(fake_zoom, clock):
    client = Zoom(Credentials(fake_zoom.account_id, fake_zoom.client_id, Secret(fake_zoom.client_secret)),
                  api_url=fake_zoom.api_url, oauth_url=fake_zoom.oauth_url, clock=clock.monotonic,
                  sleep=clock.sleep, now=clock.now, rng=random.Random(1),
                  retry=RetryPolicy(max_attempts=100, base_delay=10, max_delay=60, deadline=100))
    fake_zoom.fail_next(503, times=100, path="/v2/meetings/5")
    with pytest.raises(ZoomUnavailable):
        client.get("meeting", 5)
    assert sum(clock.slept) <= 100
    assert 2 <= fake_zoom.count("GET", "/v2/meetings/5") < 100


def test_reset_connection_retried_for_get_never_for_create(zoom, fake_zoom):
    made = _meeting(zoom)
    fake_zoom.reset_next(path=f"/v2/meetings/{made['id']}")
    assert zoom.get("meeting", made["id"])["id"] == made["id"]

    fake_zoom.reset_next(path=MEETINGS, method="POST")
    with pytest.raises(ZoomOutcomeUnknown):
        _meeting(zoom)
    assert fake_zoom.count("POST", MEETINGS) == 2  # the first create, and the one that was cut: not resent


def test_read_timeout_on_create_is_not_retried(fake_zoom, clock):
    client = Zoom(Credentials(fake_zoom.account_id, fake_zoom.client_id, Secret(fake_zoom.client_secret)),
                  api_url=fake_zoom.api_url, oauth_url=fake_zoom.oauth_url, timeout=(2.0, 0.1),
                  clock=clock.monotonic, sleep=clock.sleep, now=clock.now)
    fake_zoom.delay_next(0.4, path=MEETINGS, method="POST")
    with pytest.raises(ZoomOutcomeUnknown) as err:
        client.create("meeting", "me", BODY)
    assert str(err.value) == ("Zoom did not answer POST /v2/users/me/meetings in time (ReadTimeout); it may have "
                              "been carried out, so it is not sent again")
    assert fake_zoom.count("POST", MEETINGS) == 1
    assert len(fake_zoom.meetings) == 1  # Zoom made it although the client gave up


@pytest.mark.parametrize("code,message,error,text", [
    (4700, "Invalid access token, does not contain scopes:[meeting:write:admin].", ZoomScopeError,
     "the Zoom app lacks the scope meeting:write:admin needed for GET /meetings/77: add it under Scopes in your "
     "app on the Zoom App Marketplace (Invalid access token, does not contain scopes:[meeting:write:admin].)"),
    (200, "No permission.", ZoomPlanError,
     "Zoom refused GET /meetings/77: it needs a paid plan (Pro or higher) or a permission the account lacks "
     "(No permission.)"),
    (300, "Invalid field.", ZoomApiError, "Zoom API error on GET /meetings/77: HTTP 400, code 300: Invalid field."),
])
def test_errors_for_people(zoom, fake_zoom, code, message, error, text):
    fake_zoom.fail_next(400, code=code, message=message, path="/v2/meetings/77")
    with pytest.raises(error) as err:
        zoom.get("meeting", 77)
    assert str(err.value).startswith(text + " (Zoom request id ")
    assert err.value.request_id and err.value.request_id in str(err.value)
    assert (err.value.status, err.value.code, err.value.zoom_message) == (400, code, message)
    if error is ZoomScopeError:
        assert err.value.scopes == ["meeting:write:admin"]


def test_meeting_not_found(zoom, fake_zoom):
    with pytest.raises(ZoomNotFoundError) as err:
        zoom.get("meeting", 12345678901)
    assert err.value.code == 3001
    assert str(err.value).startswith("not found on Zoom: GET /meetings/12345678901 (Meeting does not exist")


def test_unknown_host(zoom, fake_zoom):
    with pytest.raises(ZoomNotFoundError) as err:
        zoom.create("meeting", "nobody@example.jp", BODY)
    assert str(err.value).startswith("Zoom user not found (User does not exist: nobody@example.jp")


def test_meeting_lifecycle_calls(zoom, fake_zoom):
    made = _meeting(zoom)
    assert made["join_url"].startswith("https://") and made["password"]
    zoom.update("meeting", made["id"], {"topic": "新しい題"})
    assert fake_zoom.meetings[made["id"]]["topic"] == "新しい題"
    assert [m["id"] for m in zoom.list_upcoming("meeting", "me")] == [made["id"]]
    zoom.delete("meeting", made["id"])
    assert made["id"] not in fake_zoom.meetings or fake_zoom.meetings[made["id"]].get("status") == "deleted"


def test_webinar_calls(zoom, fake_zoom):
    made = zoom.create("webinar", "me", {**BODY, "type": 5})
    assert zoom.get("webinar", made["id"])["type"] == 5
    assert fake_zoom.count("POST", "/v2/users/me/webinars") == 1


def test_list_is_paged_without_page_tokens_leaking(zoom, fake_zoom):
    for n in range(35):
        zoom.create("meeting", "me", {**BODY, "topic": f"m{n}"})
    topics = [m["topic"] for m in zoom.paginate(MEETINGS.removeprefix("/v2"), key="meetings", label="medium",
                                                params={"type": "scheduled"}, page_size=30)]
    assert sorted(topics) == sorted(f"m{n}" for n in range(35))
    assert fake_zoom.count("GET", MEETINGS) == 2


def test_1000_registrants_in_34_batch_calls(zoom, fake_zoom):
    made = _meeting(zoom)
    people = [{"email": f"p{n:04d}@city.example.lg.jp", "first_name": "太郎", "last_name": f"山田{n}"}
              for n in range(1000)]
    answers = list(zoom.batch_register("meeting", made["id"], people))
    assert fake_zoom.count("POST", f"/v2/meetings/{made['id']}/batch_registrants") == 34
    assert len(answers) == 1000 and all(a["join_url"] and a["registrant_id"] for a in answers)
    assert len(list(zoom.list_registrants("meeting", made["id"]))) == 1000
    assert fake_zoom.count("GET", f"/v2/meetings/{made['id']}/registrants") == 4  # 300 a page


def test_cancel_registrants(zoom, fake_zoom):
    made = _meeting(zoom)
    (one,) = zoom.batch_register("meeting", made["id"], [{"email": "a@example.jp", "first_name": "A", "last_name": "B"}])
    zoom.cancel_registrants("meeting", made["id"], [{"id": one["registrant_id"], "email": "a@example.jp"}])
    assert list(zoom.list_registrants("meeting", made["id"])) == []


def _segments(start: datetime, n: int) -> list[dict]:
    return [{"name": f"参加者{i}", "user_email": f"u{i}@example.jp", "join_time": start,
             "leave_time": start + timedelta(minutes=60)} for i in range(n)]


def test_report_not_ready_then_1000_rows_in_4_pages(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    start = datetime(2027, 1, 21, 9, 0, tzinfo=timezone.utc)
    rejoin = [{"name": "戻る人", "user_email": "back@example.jp", "join_time": start,
               "leave_time": start + timedelta(minutes=10)},
              {"name": "戻る人", "user_email": "back@example.jp", "join_time": start + timedelta(minutes=20),
               "leave_time": start + timedelta(minutes=90)}]
    clock.wall = start + timedelta(minutes=90)
    fake_zoom.end_meeting(made["id"], ended_at=clock.wall, participants=_segments(start, 998) + rejoin)
    with pytest.raises(ZoomReportNotReady) as err:
        list(zoom.report_participants("meeting", made["id"]))
    assert str(err.value).startswith(f"Zoom has no participant report for meeting {made['id']} yet")

    clock.advance(minutes=31)
    rows = list(zoom.report_participants("meeting", made["id"]))
    assert len(rows) == 1000
    assert [r["duration"] for r in rows if r["user_email"] == "back@example.jp"] == [600, 4200]
    assert fake_zoom.count("GET", f"/v2/report/meetings/{made['id']}/participants") == 1 + 4


def test_double_encoded_uuid(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    start = datetime(2027, 1, 21, 9, 0, tzinfo=timezone.utc)
    fake_zoom.end_meeting(made["id"], ended_at=start + timedelta(minutes=90), participants=_segments(start, 3),
                          uuid="/ab//cd==")
    assert encode_id("/ab//cd==") == "%252Fab%252F%252Fcd%253D%253D"
    assert encode_id("abcd==") == "abcd%3D%3D"
    assert [i["uuid"] for i in zoom.past_instances(made["id"])] == ["/ab//cd=="]
    assert len(list(zoom.past_participants("/ab//cd=="))) == 3


def test_survey_link(zoom, fake_zoom):
    made = _meeting(zoom)
    zoom.set_survey_link(made["id"], "https://forms.example.jp/f/abc")
    assert zoom.get_survey(made["id"])["third_party_survey"] == "https://forms.example.jp/f/abc"
    long_url = "https://forms.example.jp/f/" + "x" * 40
    with pytest.raises(InputError) as err:
        zoom.set_survey_link(made["id"], long_url)
    assert str(err.value) == (
        f"the survey URL is {len(long_url)} characters; Zoom's post-meeting survey link allows at most 64: use a "
        "shorter link (a URL shortener or the form's short link) or send the survey by email only")
    assert fake_zoom.count("PATCH", f"/v2/meetings/{made['id']}/survey") == 1


def test_pacing_keeps_under_the_per_second_limit(zoom, fake_zoom, clock):
    made = _meeting(zoom)
    start = clock.monotonic()
    for _ in range(61):
        zoom.get("meeting", made["id"])  # Light: 30 a second on Pro
    assert clock.monotonic() - start == pytest.approx(2.0, abs=1e-3)
    assert not [r for r in fake_zoom.recorded if r.status == 429]

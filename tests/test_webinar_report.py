"""A webinar's attendance: Zoom's webinar participant report, and when it never comes, the past-webinar
participants (`/past_webinars/{id}/participants`, not the meetings' list), through `opsflow run-due` against
the fake Zoom, whose every exchange is checked against Zoom's OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from opsflow.sandbox.zoom import FakeZoom

from .test_cli import run  # noqa: F401  (the `run` fixture: the CLI in-process)

JST = timezone(timedelta(hours=9))
START = datetime(2027, 1, 21, 18, 0, tzinfo=JST)
END = START + timedelta(minutes=90)
JOB = """\
mail = []  # no mail: attendance only

[event]
id = "webinar-12"
title = "第12回 ウェビナー"
start = 2027-01-21T18:00:00+09:00
duration = "90m"

[zoom]
kind = "webinar"
"""


@pytest.fixture
def fake_zoom(clock):
    """As conftest's, with a participant report that takes a day (it never comes in time)."""
    from . import zoomspec

    with FakeZoom(clock=clock.now, report_delay=timedelta(days=1)) as fake:
        yield fake
    if zoomspec.spec_path() is None:
        return
    problems = [p for exchange in fake.recorded for p in zoomspec.check_exchange(exchange)]
    assert problems == [], "requests or responses that Zoom's OpenAPI document does not allow:\n" + "\n".join(problems)


def test_a_webinar_without_a_report_counts_its_past_webinar_participants(run, write_job, fake_zoom, clock):  # noqa: F811
    write_job(JOB)
    env = {"OPSFLOW_ZOOM_ACCOUNT_ID": fake_zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": fake_zoom.client_id,
           "OPSFLOW_ZOOM_CLIENT_SECRET": fake_zoom.client_secret, "OPSFLOW_ZOOM_API_URL": fake_zoom.api_url,
           "OPSFLOW_ZOOM_OAUTH_URL": fake_zoom.oauth_url}

    def run_due(when: datetime):
        clock.wall = when.astimezone(UTC)
        return run("run-due", "--now", when.isoformat(), env=env)

    assert run_due(START - timedelta(days=1)).exit_code == 0
    (webinar_id,) = fake_zoom.webinars
    fake_zoom.end_meeting(webinar_id, ended_at=END, participants=[
        {"name": f"参加者{i}", "user_email": f"p{i}@city.example.lg.jp", "join_time": START,
         "leave_time": START + timedelta(minutes=5 + 20 * i)} for i in range(4)])

    waiting = run_due(END + timedelta(minutes=30))
    assert waiting.exit_code == 0
    assert f"report.fetch retry (Zoom has no participant report for webinar {webinar_id} yet" in waiting.stdout

    late = run_due(END + timedelta(hours=6, minutes=5))  # past the report's deadline: the fallback
    assert late.exit_code == 0, late.output
    assert "webinar-12: report.fetch done (4 people, 3 attended)" in late.stdout.splitlines()
    assert fake_zoom.count("GET", f"/v2/past_webinars/{webinar_id}/participants") == 1
    assert fake_zoom.count(prefix="/v2/past_meetings/") == 0
    assert fake_zoom.count("GET", f"/v2/report/webinars/{webinar_id}/participants") >= 2
    shown = run("report", "show", "webinar-12", env=env)
    assert shown.stdout.startswith("webinar-12: 0 of 0 registered attended")

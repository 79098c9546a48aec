"""The seminar's Zoom meeting: created once, found again after a crash or a timeout, updated, deleted."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.errors import ZoomOutcomeUnknown, ZoomUnavailable
from opsflow.core.jobspec import load_job
from opsflow.zoom.meeting import LEASE, create_meeting, marker, meeting_body, sync_after_apply, update_meeting

from .conftest import NOW

MEETINGS = "/v2/users/me/meetings"


def _step_state(store, key="zoom.create") -> str:
    with store.read() as conn:
        return next(s["state"] for s in db.list_steps(conn, ["example-seminar"]) if s["key"] == key)


def test_body_follows_the_job_file(event):
    body = meeting_body(event)
    assert body == {
        "topic": "パブリテックセミナー vol.3「自治体DXの現場から ― 窓口改革とデータ活用」",
        "type": 2,
        "start_time": "2027-01-21T09:00:00Z",
        "duration": 90,
        "timezone": "Asia/Tokyo",
        "agenda": "[opsflow example-seminar]\n" + event.spec.event.description,
        "settings": {"approval_type": 0, "registration_type": 1, "registrants_email_notification": False,
                     "registrants_confirmation_email": False},
    }


def test_created_once_however_often_it_runs(store, zoom, fake_zoom, event):
    first = create_meeting(store, zoom, event, NOW)
    assert first.action == "created"
    again = create_meeting(store, zoom, event, NOW)
    assert again.action == "exists" and again.record["meeting_id"] == first.record["meeting_id"]
    assert fake_zoom.count("POST", MEETINGS) == 1 and len(fake_zoom.meetings) == 1
    made = fake_zoom.meetings[first.record["meeting_id"]]
    assert first.record["join_url"] == made["join_url"] and first.record["passcode"] == made["password"]
    assert "start_url" not in first.record
    assert _step_state(store) == "done"


def test_start_url_is_never_stored(store, zoom, fake_zoom, event, db_url):
    create_meeting(store, zoom, event, NOW)
    start_url = next(iter(fake_zoom.meetings.values()))["start_url"]
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(db.zoom_meetings.select()).mappings()]
    assert start_url not in repr(rows)


def test_timeout_on_create_finds_the_meeting_instead_of_making_another(store, zoom, fake_zoom, event):
    zoom.timeout = (2.0, 0.1)
    fake_zoom.delay_next(0.4, path=MEETINGS, method="POST")
    outcome = create_meeting(store, zoom, event, NOW)
    assert outcome.action == "found"
    assert fake_zoom.count("POST", MEETINGS) == 1 and len(fake_zoom.meetings) == 1
    assert outcome.record["meeting_id"] in fake_zoom.meetings


def test_crash_after_the_post_is_reconciled(store, zoom, fake_zoom, event):
    # A run claimed the meeting and Zoom made it, then the process died before recording it.
    with store.begin() as conn:
        db.claim_zoom_meeting(conn, {"event_id": event.id, "kind": "meeting", "host": "me", "state": "creating",
                                     "lease_owner": "dead-host:1", "lease_until": NOW + LEASE}, NOW)
    made = zoom.create("meeting", "me", meeting_body(event))

    busy = create_meeting(store, zoom, event, NOW + timedelta(minutes=1))
    assert busy.action == "busy"  # the lease still holds: maybe that run is alive
    later = create_meeting(store, zoom, event, NOW + LEASE + timedelta(seconds=1))
    assert later.action == "found" and later.record["meeting_id"] == made["id"]
    assert fake_zoom.count("POST", MEETINGS) == 1
    assert _step_state(store) == "done"


def test_outcome_unknown_and_not_found_leaves_a_claim_to_search_again(store, zoom, fake_zoom, event):
    fake_zoom.reset_next(path=MEETINGS, method="POST")
    with pytest.raises(ZoomOutcomeUnknown):
        create_meeting(store, zoom, event, NOW)
    with store.read() as conn:
        row = db.get_zoom_meeting(conn, event.id)
    assert row["state"] == "creating" and row["lease_until"] is None  # released: the next run searches
    outcome = create_meeting(store, zoom, event, NOW)  # searches, finds nothing, creates
    assert outcome.action == "created"
    assert fake_zoom.count("GET", MEETINGS) >= 2 and len(fake_zoom.meetings) == 1


def test_two_runs_at_once_make_one_meeting(store, zoom, fake_zoom, event):
    outcomes, errors = [], []

    def run(owner: str) -> None:
        try:
            outcomes.append(create_meeting(store, zoom, event, NOW, owner=owner).action)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"runner-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes).count("created") == 1 and len(fake_zoom.meetings) == 1


def test_changed_time_updates_the_meeting_on_apply(store, zoom, fake_zoom, event, example_jobs):
    created = create_meeting(store, zoom, event, NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        "2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"), encoding="utf-8")
    moved = load_job(example_jobs)
    apply_events(store, [moved], NOW)

    assert [o.action for o in sync_after_apply(store, lambda: zoom, [moved], NOW, dry_run=True)] == ["update"]
    assert fake_zoom.count("PATCH") == 0
    outcomes = sync_after_apply(store, lambda: zoom, [moved], NOW)
    assert [o.action for o in outcomes] == ["updated"]
    assert fake_zoom.meetings[created.record["meeting_id"]]["start_time"] == "2027-01-28T09:00:00Z"
    assert sync_after_apply(store, lambda: zoom, [moved], NOW) == []  # nothing left to send
    assert update_meeting(store, zoom, moved, NOW).action == "unchanged"


def test_unchanged_apply_needs_no_zoom(store, zoom, event):
    create_meeting(store, zoom, event, NOW)

    def no_zoom():
        raise AssertionError("Zoom was asked for although nothing changed")

    assert sync_after_apply(store, no_zoom, [event], NOW) == []


def test_cancelled_event_deletes_the_meeting(store, zoom, fake_zoom, event, example_jobs):
    created = create_meeting(store, zoom, event, NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        'language = "ja"', 'language = "ja"\ncancelled = true'), encoding="utf-8")
    cancelled = load_job(example_jobs)
    (result,) = apply_events(store, [cancelled], NOW)
    assert result.changes[0].message == "seminar cancelled"
    assert {c.action for c in result.changes[1:]} == {"cancel-step"}
    outcomes = sync_after_apply(store, lambda: zoom, [cancelled], NOW)
    assert [o.action for o in outcomes] == ["deleted"]
    assert fake_zoom.count("DELETE", f"/v2/meetings/{created.record['meeting_id']}") == 1
    assert sync_after_apply(store, lambda: zoom, [cancelled], NOW) == []


def test_a_failed_update_is_sent_by_the_next_apply(store, zoom, fake_zoom, event, example_jobs):
    created = create_meeting(store, zoom, event, NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace('duration = "90m"', 'duration = "2h"'),
                            encoding="utf-8")
    longer = load_job(example_jobs)
    apply_events(store, [longer], NOW)
    fake_zoom.fail_next(503, times=10, path=f"/v2/meetings/{created.record['meeting_id']}")
    with pytest.raises(ZoomUnavailable):
        sync_after_apply(store, lambda: zoom, [longer], NOW)
    (result,) = apply_events(store, [longer], NOW)
    assert result.changes == []  # the database is up to date...
    assert [o.action for o in sync_after_apply(store, lambda: zoom, [longer], NOW)] == ["updated"]  # ...Zoom now too
    assert fake_zoom.meetings[created.record["meeting_id"]]["duration"] == 120


def test_marker_is_in_the_agenda(event):
    assert meeting_body(event)["agenda"].startswith(marker("example-seminar"))


@pytest.mark.parametrize("url,note,is_set", [
    ("https://forms.example.jp/f/abc", "; the survey link is set as Zoom's post-meeting survey", True),
    ("https://forms.example.jp/f/abc?email={email}", "; the survey link has personal placeholders ({email}, "
     "{token}), so it is not set as Zoom's post-meeting survey, which shows one link to everyone", False),
    ("https://forms.example.jp/f/" + "x" * 60, "; Zoom's post-meeting survey not set: the survey URL is 87 "
     "characters; Zoom's post-meeting survey link allows at most 64: use a shorter link (a URL shortener or the "
     "form's short link) or send the survey by email only", False),
])
def test_zoom_post_meeting_survey(store, zoom, fake_zoom, example_jobs, url, note, is_set):
    text = example_jobs.read_text(encoding="utf-8")
    text = text.replace('url = "https://forms.example.jp/f/publitech-vol3?email={email}"', f'url = "{url}"\nzoom_survey = true')
    example_jobs.write_text(text, encoding="utf-8")
    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    outcome = create_meeting(store, zoom, event, NOW)
    assert outcome.message == f"meeting {outcome.record['meeting_id']} created{note}"
    assert fake_zoom.count("PATCH", f"/v2/meetings/{outcome.record['meeting_id']}/survey") == (1 if is_set else 0)

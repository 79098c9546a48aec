"""`apply_events`: job files reconciled into a real database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.jobspec import load_job

from .conftest import NOW

JST = timezone(timedelta(hours=9))


def _steps(store, event_id="example-seminar") -> dict:
    with store.read() as conn:
        return {s["key"]: s for s in db.list_steps(conn, [event_id])}


def _actions(result) -> list[tuple[str, str | None]]:
    return [(c.action, c.step_key) for c in result.changes]


def test_new_event_gets_its_steps(store, example_jobs):
    (result,) = apply_events(store, [load_job(example_jobs)], NOW)
    assert result.changes[0].message == "new event, 11 steps planned"
    steps = _steps(store)
    assert list(steps) == [
        "zoom.create", "registrants.sync", "mail.confirmation", "mail.invitation", "mail.reminder.1d",
        "mail.reminder.1h", "report.fetch", "summary.staff", "survey.send", "survey.remind", "summary.staff.survey",
    ]
    assert {s["state"] for s in steps.values()} == {"planned"}
    assert steps["zoom.create"]["due_at"] == NOW  # "on apply" steps are due at once
    assert steps["mail.invitation"]["due_at"] == datetime(2027, 1, 7, 10, 0, tzinfo=JST)
    assert steps["summary.staff"]["after_key"] == "report.fetch"
    with store.read() as conn:
        event = db.get_event(conn, "example-seminar")
    assert (event["start_at"], event["sequence"], event["status"]) == (datetime(2027, 1, 21, 18, tzinfo=JST), 0, "active")


def test_unchanged_file_changes_nothing(store, example_jobs):
    apply_events(store, [load_job(example_jobs)], NOW)
    before = _steps(store)
    (result,) = apply_events(store, [load_job(example_jobs)], NOW + timedelta(hours=1))
    assert result.changes == [] and not result.is_changed
    assert _steps(store) == before


def test_moved_start_moves_pending_steps_only(store, example_jobs):
    apply_events(store, [load_job(example_jobs)], NOW)
    with store.begin() as conn:  # the invitation already went out
        db.update_step(conn, _steps(store)["mail.invitation"]["id"], {"state": "done"}, NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        "2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00"), encoding="utf-8")

    (result,) = apply_events(store, [load_job(example_jobs)], NOW)

    assert result.changes[0].message == "seminar moved from 2027-01-21 18:00 JST to 2027-01-28 18:00 JST"
    assert ("keep-step", "mail.invitation") in _actions(result)
    assert [c.message for c in result.changes if c.step_key == "mail.invitation"] == ["already done; left as it is"]
    steps = _steps(store)
    assert steps["mail.invitation"]["due_at"] == datetime(2027, 1, 7, 10, tzinfo=JST)  # untouched
    assert steps["mail.invitation"]["state"] == "done"
    assert steps["mail.reminder.1d"]["due_at"] == datetime(2027, 1, 27, 18, tzinfo=JST)
    assert steps["survey.remind"]["due_at"] == datetime(2027, 2, 2, 10, tzinfo=JST)
    assert steps["zoom.create"]["due_at"] == NOW  # "on apply" steps do not move
    with store.read() as conn:
        assert db.get_event(conn, "example-seminar")["sequence"] == 1


def test_removed_step_is_cancelled_and_restored(store, example_jobs):
    apply_events(store, [load_job(example_jobs)], NOW)
    original = example_jobs.read_text(encoding="utf-8")
    example_jobs.write_text(original.replace('[[mail]]\nkind = "reminder"\nat = "start - 1h"\n', ""), encoding="utf-8")

    (result,) = apply_events(store, [load_job(example_jobs)], NOW)
    assert _actions(result) == [("update-event", None), ("cancel-step", "mail.reminder.1h")]
    assert _steps(store)["mail.reminder.1h"]["state"] == "cancelled"

    example_jobs.write_text(original, encoding="utf-8")
    (result,) = apply_events(store, [load_job(example_jobs)], NOW)
    assert _actions(result) == [("update-event", None), ("restore-step", "mail.reminder.1h")]
    assert _steps(store)["mail.reminder.1h"]["state"] == "planned"


def test_removed_step_that_already_ran_is_kept(store, example_jobs):
    apply_events(store, [load_job(example_jobs)], NOW)
    with store.begin() as conn:
        db.update_step(conn, _steps(store)["mail.reminder.1h"]["id"], {"state": "failed", "last_error": "x"}, NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        '[[mail]]\nkind = "reminder"\nat = "start - 1h"\n', ""), encoding="utf-8")
    (result,) = apply_events(store, [load_job(example_jobs)], NOW)
    assert _actions(result) == [("update-event", None)]
    assert _steps(store)["mail.reminder.1h"]["state"] == "failed"


def test_added_reminder(store, example_jobs):
    apply_events(store, [load_job(example_jobs)], NOW)
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(
        "[report]", '[[mail]]\nkind = "reminder"\nat = "start - 3d @ 10:00"\n\n[report]'), encoding="utf-8")
    (result,) = apply_events(store, [load_job(example_jobs)], NOW)
    assert _actions(result) == [("update-event", None), ("add-step", "mail.reminder.3d-1000")]
    assert _steps(store)["mail.reminder.3d-1000"]["due_at"] == datetime(2027, 1, 18, 10, tzinfo=JST)


def test_dry_run_writes_nothing(store, example_jobs):
    (result,) = apply_events(store, [load_job(example_jobs)], NOW, dry_run=True)
    assert result.changes[0].action == "add-event"
    with store.read() as conn:
        assert db.list_events(conn) == []


def test_every_change_a_calendar_shows_raises_the_sequence(store, example_jobs):
    """Calendars take an updated .ics only with a higher SEQUENCE: a new title, a cancellation and a
    reinstatement each raise it; a change the .ics does not show (a reminder's time) leaves it; and
    `send EVENT change` still names the notice of the last move, not a new one."""
    from opsflow.mail.send import resolve_target

    def sequence_after(old: str, new: str) -> int:
        example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        apply_events(store, [load_job(example_jobs)], NOW)
        with store.read() as conn:
            return db.get_event(conn, "example-seminar")["sequence"]

    apply_events(store, [load_job(example_jobs)], NOW)
    with store.begin() as conn:  # invited, so that a move plans a change notice
        db.update_step(conn, _steps(store)["mail.invitation"]["id"], {"state": "done"}, NOW)
    assert sequence_after("2027-01-21T18:00:00+09:00", "2027-01-28T18:00:00+09:00") == 1
    assert "mail.change.1" in _steps(store)
    assert sequence_after('title = "', 'title = "【会場変更】') == 2
    assert sequence_after("[event]\n", "[event]\ncancelled = true\n") == 3
    assert sequence_after("cancelled = true\n", "") == 4  # reinstated
    assert sequence_after('at = "start - 1d"', 'at = "start - 2d"') == 4
    assert resolve_target(store, load_job(example_jobs), "change").message_key == "mail.change.1"

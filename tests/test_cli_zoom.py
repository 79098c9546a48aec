"""`opsflow zoom ...` and `opsflow apply` against the fake Zoom, configured through the environment."""

from __future__ import annotations

import json

import pytest

from .test_cli import NOW, run  # noqa: F401  (the `run` fixture)

SECRET = "fake-client-secret"


@pytest.fixture
def zoom_env(fake_zoom) -> dict:
    return {"OPSFLOW_ZOOM_ACCOUNT_ID": fake_zoom.account_id, "OPSFLOW_ZOOM_CLIENT_ID": fake_zoom.client_id,
            "OPSFLOW_ZOOM_CLIENT_SECRET": fake_zoom.client_secret, "OPSFLOW_ZOOM_API_URL": fake_zoom.api_url,
            "OPSFLOW_ZOOM_OAUTH_URL": fake_zoom.oauth_url}


@pytest.fixture
def applied(run, example_jobs):  # noqa: F811
    assert run("apply", "--now", NOW).exit_code == 0
    return example_jobs


def test_create_once_however_often_it_runs(run, applied, zoom_env, fake_zoom):  # noqa: F811
    first = run("zoom", "create", "example-seminar", env=zoom_env)
    assert first.exit_code == 0, first.output
    (meeting_id,) = fake_zoom.meetings
    meeting = fake_zoom.meetings[meeting_id]
    assert first.stdout.splitlines()[:4] == [
        f"example-seminar: meeting {meeting_id} created",
        "  kind             meeting",
        "  state            created",
        f"  meeting_id       {meeting_id}",
    ]
    assert f"  join_url         {meeting['join_url']}" in first.stdout.splitlines()
    second = run("zoom", "create", "example-seminar", "--json", env=zoom_env)
    data = json.loads(second.stdout)
    assert (data["action"], data["meeting"]["meeting_id"]) == ("exists", meeting_id)
    assert fake_zoom.count("POST", "/v2/users/me/meetings") == 1
    status = json.loads(run("status", "example-seminar", "--json").stdout)
    assert {s["key"]: s["state"] for s in status["events"][0]["steps"]}["zoom.create"] == "done"


def test_dry_run_needs_no_credentials_and_calls_nothing(run, applied, fake_zoom):  # noqa: F811
    result = run("zoom", "create", "example-seminar", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("(dry run) would create this meeting for host 'me':\n{")
    assert json.loads(result.stdout.split("\n", 1)[1])["start_time"] == "2027-01-21T09:00:00Z"
    assert fake_zoom.recorded == []


def test_missing_credentials_are_named(run, applied):  # noqa: F811
    result = run("zoom", "create", "example-seminar")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: OPSFLOW_ZOOM_ACCOUNT_ID is not set: put the Account ID of your Zoom Server-to-Server OAuth app "
        "(Zoom App Marketplace > your app > App Credentials) in the environment or in .env\n")


def test_refused_credentials_never_show_the_secret(run, applied, zoom_env):  # noqa: F811
    env = {**zoom_env, "OPSFLOW_ZOOM_CLIENT_SECRET": "s3cret-that-is-wrong"}
    result = run("zoom", "create", "example-seminar", env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Zoom refused the app credentials (Invalid client_id or client_secret)")
    assert "s3cret-that-is-wrong" not in result.output


def test_show_update_delete(run, applied, zoom_env, fake_zoom):  # noqa: F811
    run("zoom", "create", "example-seminar", env=zoom_env)
    (meeting_id,) = fake_zoom.meetings
    shown = json.loads(run("zoom", "show", "example-seminar", "--remote", "--json", env=zoom_env).stdout)
    assert shown["meeting"]["join_url"] == fake_zoom.meetings[meeting_id]["join_url"]
    assert "start_url" not in json.dumps(shown)
    assert shown["zoom"]["topic"].startswith("パブリテックセミナー vol.3")

    applied.write_text(applied.read_text(encoding="utf-8").replace("vol.3", "vol.3（会場変更）"), encoding="utf-8")
    moved = run("apply", "--now", NOW, env=zoom_env)
    assert moved.stdout.splitlines()[-1] == f"example-seminar: zoom: meeting {meeting_id} updated on Zoom"
    assert "（会場変更）" in fake_zoom.meetings[meeting_id]["topic"]
    assert run("zoom", "update", "example-seminar", env=zoom_env).stdout.splitlines()[0] == (
        f"example-seminar: meeting {meeting_id} is up to date")

    dry = run("zoom", "delete", "example-seminar", "--dry-run")
    assert dry.stdout.splitlines()[0] == f"example-seminar: would delete meeting {meeting_id}"
    deleted = run("zoom", "delete", "example-seminar", env=zoom_env)
    assert deleted.stdout.splitlines()[0] == f"example-seminar: meeting {meeting_id} deleted on Zoom"
    assert fake_zoom.count("DELETE", f"/v2/meetings/{meeting_id}") == 1
    assert run("zoom", "delete", "example-seminar", env=zoom_env).stdout.splitlines()[0] == (
        "example-seminar: no Zoom meeting to delete")


def test_unknown_event(run, zoom_env):  # noqa: F811
    result = run("zoom", "show", "nope", env=zoom_env)
    assert (result.exit_code, result.stderr) == (
        2, "Error: no event 'nope' in the database: check the id, or run `opsflow apply`\n")


def test_show_before_create(run, applied):  # noqa: F811
    result = run("zoom", "show", "example-seminar")
    assert (result.exit_code, result.stderr) == (
        2, "Error: example-seminar has no Zoom meeting yet: run `opsflow zoom create example-seminar`\n")

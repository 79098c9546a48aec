"""The command line, through click's CliRunner: exit codes, exact messages, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from opsflow.cli.main import cli

from .conftest import REPO

NOW = "2026-11-26T09:00:00+09:00"


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    """run(*args) -> Result, in tmp_path with its own database and jobs folder, no .env from the repo."""
    monkeypatch.chdir(tmp_path)
    env = {"OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}", "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs")}

    def run(*args: str, **kwargs):
        return CliRunner().invoke(cli, list(args), env={**env, **kwargs.pop("env", {})}, **kwargs)

    return run


def _commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix}{name} ")
    return out


@pytest.mark.parametrize("name,command", _commands())
def test_every_command_has_help_with_an_example(run, name, command):
    result = run(*name.split(), "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"opsflow {name}" in result.output


# Every command is sorted here, so that a new one has to say what it is.
REPORTS = {  # print what they did or found: --json
    "validate",
    "plan",
    "apply",
    "status",
    "zoom create",
    "zoom show",
    "zoom update",
    "zoom delete",
    "registrants import",
    "registrants list",
    "registrants add",
    "registrants cancel",
    "registrants sync",
    "registrants purge",
    "send",
    "speakers",
    "deliveries list",
    "deliveries resolve",
    "report fetch",
    "report show",
    "recording fetch",
    "recording show",
    "survey import",
    "summary",
    "series",
    "run-due",
    "doctor",
    "chat test",
}
DOCUMENTS = {  # print a document, not a report
    "preview": "a mail",
    "report export": "a CSV",
    "report draft": "Markdown",
    "scheduler": "a log (--log-format json)",
    "demo": "an outbox",
}
CHANGES = {  # change the database, Zoom or someone's inbox: --dry-run
    "apply",
    "zoom create",
    "zoom update",
    "zoom delete",
    "registrants import",
    "registrants add",
    "registrants cancel",
    "registrants purge",
    "send",
    "deliveries resolve",
    "recording fetch",
    "summary",
    "run-due",
    "chat test",
}
CHANGES_WITHOUT_DRY_RUN = {  # the library has no dry run for them yet; each is safe to run again
    "registrants sync": "imports (see `registrants import --dry-run`) and registers with Zoom",
    "report fetch": "stores Zoom's report; reads Zoom only",
    "survey import": "replaces the stored answers with the file's",
    "scheduler": "a service: `run-due --dry-run` shows what it would do",
    "demo": "works in its own folder",
}
READ_ONLY = {
    "validate",
    "plan",
    "status",
    "zoom show",
    "registrants list",
    "preview",
    "deliveries list",
    "speakers",
    "report show",
    "report export",
    "report draft",
    "recording show",
    "series",
    "doctor",
}


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: p for p in command.params for opt in p.opts if opt.startswith("--")}


def test_every_command_follows_the_flag_conventions():
    commands = {name: c for name, c in _commands() if not isinstance(c, click.Group)}
    assert not [name for name, c in _commands() if "Example:" not in (c.help or "")]
    assert sorted(commands) == sorted([*REPORTS, *DOCUMENTS]), "sort a new command into REPORTS or DOCUMENTS"
    assert sorted(commands) == sorted([*CHANGES, *CHANGES_WITHOUT_DRY_RUN, *READ_ONLY]), (
        "sort a new command into CHANGES, CHANGES_WITHOUT_DRY_RUN or READ_ONLY"
    )
    for name, command in commands.items():
        options = _options(command)
        assert ("--json" in options) == (name in REPORTS), name
        assert ("--dry-run" in options) == (name in CHANGES), name
        if "--csv" in options:  # one meaning: a file, `-` (or no value) for stdout
            csv_option = options["--csv"]
            assert isinstance(csv_option, click.Option), name
            assert (csv_option.metavar, csv_option.flag_value, csv_option.is_flag) == ("PATH", "-", False), name


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_is_in_the_readme(name):
    assert f"opsflow {name}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_validate_example(run, example_jobs):
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: {example_jobs} (example-seminar, 11 steps)\n"


def test_validate_json(run, example_jobs):
    result = run("validate", "--json", str(example_jobs))
    assert json.loads(result.stdout) == {
        "ok": True,
        "files": [{"path": str(example_jobs), "event": "example-seminar", "steps": 11}],
    }


def test_validate_reports_every_problem_with_exit_2(run, write_job):
    path = write_job('[event]\nid = "a"\ntitel = "x"\nstart = 2027-01-21T18:00:00\nduration = "90m"\n')
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: 2 problems in job files:\n"
        f"  {path}:1: event.title: required key is missing\n"
        f"  {path}:3: event.titel: unknown key 'titel'; did you mean 'title'?\n"
    )


def test_missing_file(run):
    result = run("validate", "nope.toml")
    assert (result.exit_code, result.stderr) == (2, "Error: nope.toml: file not found: check the path\n")


def test_no_jobs_folder(run):
    result = run("plan")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "jobs folder not found" in result.stderr


def test_debug_shows_the_traceback(run):
    result = run("--debug", "validate", "nope.toml")
    assert result.exit_code == 1 and type(result.exception).__name__ == "JobFileErrors"


def test_plan_table(run, example_jobs):
    result = run("plan", "--now", NOW)
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert "mail.invitation       2027-01-07 Thu 10:00 +09:00  start - 14d @ 10:00" in lines
    assert "survey.remind         2027-01-26 Tue 10:00 +09:00  end + 3bd @ 10:00" in lines
    assert "zoom.create           on apply                     on apply" in lines
    assert result.stderr == ""  # the example has nothing to warn about


def test_plan_warns_on_stderr(run, write_job):
    path = write_job("""\
        [event]
        id = "late"
        title = "Late"
        start = 2027-01-21T22:00:00+09:00
        duration = "60m"
        [[mail]]
        kind = "reminder"
        at = "start - 1h"
        """)
    result = run("plan", str(path), "--now", NOW)
    assert result.exit_code == 0
    assert result.stderr == "Warning: late: mail.reminder.1h sends at night (2027-01-21 Thu 21:00 JST)\n"


def test_plan_json(run, example_jobs):
    result = run("plan", "--json", "--now", NOW)
    data = json.loads(result.stdout)
    (event,) = data["events"]
    assert event["start_at"] == "2027-01-21T18:00:00+09:00"
    assert [s["key"] for s in event["steps"]][:4] == [
        "zoom.create", "registrants.sync", "mail.confirmation", "mail.invitation"]
    assert event["steps"][3]["due_at"] == "2027-01-07T10:00:00+09:00"
    assert data["warnings"] == []


def test_apply_status_and_move(run, example_jobs):
    first = run("apply", "--now", NOW)
    assert (first.exit_code, first.stdout) == (0, "example-seminar: new event, 11 steps planned\n")
    again = run("apply", "--now", NOW)
    assert again.stdout == "example-seminar: unchanged\n"

    status = run("status")
    assert status.exit_code == 0
    lines = [line.rstrip() for line in status.stdout.splitlines()]
    assert "mail.reminder.1d      planned  2027-01-20 Wed 18:00 +09:00  0" in lines

    example_jobs.write_text(
        example_jobs.read_text(encoding="utf-8").replace("T18:00:00+09:00", "T19:00:00+09:00"), encoding="utf-8"
    )
    dry = run("apply", "--dry-run", "--now", NOW)
    assert (
        dry.stdout.splitlines()[0]
        == "(dry run) example-seminar: seminar moved from 2027-01-21 18:00 JST to 2027-01-21 19:00 JST"
    )
    moved = run("apply", "--json", "--now", NOW)
    changes = json.loads(moved.stdout)["events"][0]["changes"]
    assert {
        "action": "move-step",
        "step": "mail.reminder.1h",
        "message": "moved from 2027-01-21 17:00 JST to 2027-01-21 18:00 JST",
    } in changes

    data = json.loads(run("status", "example-seminar", "--json").stdout)
    steps = {s["key"]: s for s in data["events"][0]["steps"]}
    assert steps["mail.reminder.1h"]["due_at"] == "2027-01-21T18:00:00+09:00"
    assert steps["mail.reminder.1h"]["state"] == "planned"


def test_status_of_unknown_event(run):
    result = run("status", "nope")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: no event 'nope' in the database: check the id, or run `opsflow apply`\n",
    )


def test_status_empty(run):
    result = run("status")
    assert result.stdout == "No events yet: run `opsflow apply` to load the job files.\n"


def test_bad_database_url_hides_the_password(run, example_jobs):
    result = run("status", env={"OPSFLOW_DATABASE_URL": "mysql://admin:s3cret-pw@db.example.jp/ops"})
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: OPSFLOW_DATABASE_URL='mysql://admin:***@db.example.jp/ops' is not a supported database: "
        "use sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB\n"
    )


def test_settings_are_read_only_by_commands_that_need_them(run, example_jobs):
    # plan needs no database: a broken database setting does not stop it
    result = run("plan", "--now", NOW, env={"OPSFLOW_DATABASE_URL": "sqlite:////no/such/folder/x.db"})
    assert result.exit_code == 0


def test_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "opsflow", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and result.stdout.strip() == "opsflow, version 0.1.0"


def test_validate_reports_misplaced_steps_of_every_file(run, write_job):
    late = write_job(
        '[event]\nid = "a"\ntitle = "A"\nstart = 2027-01-21T18:00:00+09:00\nduration = "90m"\n'
        '[[mail]]\nkind = "reminder"\nat = "start + 1h"\n',
        "a.toml",
    )
    early = write_job(
        '[event]\nid = "b"\ntitle = "B"\nstart = 2027-01-21T18:00:00+09:00\nduration = "90m"\n'
        '[zoom]\n[report]\nat = "start"\n',
        "b.toml",
    )
    result = run("validate")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 2 problems in job files:\n"
        f"  {late}:8: mail[1].at: reminder 'start + 1h' is due 2027-01-21 Thu 19:00 JST, after the seminar starts "
        "(2027-01-21 Thu 18:00 JST); it must be due before the start\n"
        f"  {early}:8: report.at: the report fetch 'start' is due 2027-01-21 Thu 18:00 JST, before the seminar ends "
        "(2027-01-21 Thu 19:30 JST); it must be due at or after the end\n"
    )


# --- status: what it shows when there are many seminars -----------------------------------------------

SERIES_FIRST = datetime(2025, 1, 9, 9, 0, tzinfo=UTC)  # 18:00 JST, then one a fortnight
SERIES_NOW = "2026-03-01T12:00:00+09:00"


def _series(db_url: str, example_jobs: Path, count: int) -> list[str]:
    """`count` seminars a fortnight apart (the example's rows copied, inserted in bulk): those over by
    SERIES_NOW done; s-01's report fetch failed (its staff summary blocked), s-02 with two deliveries in
    doubt, s-03's last reminder missed. Returns the ids by start."""
    from opsflow import store as db
    from opsflow.core.apply import apply_events
    from opsflow.core.jobspec import load_job
    from opsflow.store import open_store
    from opsflow.store.schema import deliveries, events, steps

    store = open_store(db_url)
    apply_events(store, [load_job(example_jobs)], SERIES_FIRST - timedelta(days=30))
    ids = [f"s-{n:02d}" for n in range(1, count + 1)]
    now = datetime.fromisoformat(SERIES_NOW)
    with store.begin() as conn:
        event = dict(db.get_event(conn, "example-seminar"))
        plan = [dict(s) for s in db.list_steps(conn, ["example-seminar"])]
        conn.execute(steps.delete())
        conn.execute(events.delete())
        event_rows, step_rows = [], []
        for n, event_id in enumerate(ids):
            shift = SERIES_FIRST + timedelta(weeks=2 * n) - event["start_at"]
            event_rows.append({**event, "id": event_id, "start_at": event["start_at"] + shift,
                               "end_at": event["end_at"] + shift})
            for step in plan:
                due = step["due_at"] + shift
                state = "done" if event["end_at"] + shift < now else "planned"
                step_rows.append({**step, "id": None, "event_id": event_id, "due_at": due, "state": state})
        conn.execute(events.insert(), event_rows)
        conn.execute(steps.insert(), [{k: v for k, v in s.items() if k != "id"} for s in step_rows])
        db.finish_step(conn, "s-01", "report.fetch", "failed", now, "Zoom has no participant report")
        conn.execute(steps.update().where(steps.c.event_id == "s-01", steps.c.key == "summary.staff")
                     .values(state="planned"))
        db.finish_step(conn, "s-03", "mail.reminder.1h", "missed", now, "found after the seminar had started")
        conn.execute(deliveries.insert(), [
            {"event_id": "s-02", "recipient": f"p{i}@example.jp", "message_key": "mail.invitation",
             "state": state, "created_at": now, "updated_at": now}
            for i, state in enumerate(["sending", "sending", "sent", "failed"])
        ])
    store.dispose()
    return ids


ATTENTION = [
    "  s-01: report.fetch failed: Zoom has no participant report",
    "  s-01: summary.staff blocked: waits for report.fetch, which failed",
    "  s-02: deliveries ambiguous: 2 may or may not have been delivered",
    "  s-03: mail.reminder.1h missed: found after the seminar had started",
]


def test_status_shows_the_seminars_around_today_and_all_that_needs_attention(run, db_url, example_jobs):
    ids = _series(db_url, example_jobs, 40)
    env = {"OPSFLOW_DATABASE_URL": db_url}
    text = run("status", "--now", SERIES_NOW, env=env)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[: len(ATTENTION) + 2] == ["Needs attention", *ATTENTION, ""]
    shown = [line.split()[0] for line in lines if line.startswith("s-")]
    assert shown == ["s-28", "s-29", "s-30", "s-31", "s-32", "s-33"]  # s-30 on 2026-02-19, s-31 on 03-05
    assert lines[-1] == "and 34 more seminars: opsflow status --all"

    data = json.loads(run("status", "--json", "--now", SERIES_NOW, env=env).stdout)
    assert [e["id"] for e in data["events"]] == shown and data["not_shown"] == 34
    assert [f"  {a['event']}: {a['what']} {a['state']}: {a['detail']}" for a in data["attention"]] == ATTENTION
    assert data["events"][0]["deliveries"] == {}  # counted for the seminars shown

    every = json.loads(run("status", "--all", "--json", "--now", SERIES_NOW, env=env).stdout)
    assert [e["id"] for e in every["events"]] == ids and every["not_shown"] == 0
    assert every["attention"] == data["attention"]
    assert every["events"][1]["deliveries"] == {"ambiguous": 2, "failed": 1, "sent": 1}
    assert "more seminars" not in run("status", "--all", env=env).stdout

    one = json.loads(run("status", "s-02", "--json", env=env).stdout)
    assert [e["id"] for e in one["events"]] == ["s-02"] and one["not_shown"] == 0
    assert [(a["what"], a["state"]) for a in one["attention"]] == [("deliveries", "ambiguous")]


def test_status_before_the_first_seminar_and_after_the_last(run, db_url, example_jobs):
    ids = _series(db_url, example_jobs, 5)
    env = {"OPSFLOW_DATABASE_URL": db_url}
    early = json.loads(run("status", "--json", "--now", "2024-12-01T00:00:00+09:00", env=env).stdout)
    assert [e["id"] for e in early["events"]] == ids[:3] and early["not_shown"] == 2
    late = run("status", "--now", "2030-01-01T00:00:00+09:00", env=env).stdout.splitlines()
    assert [line.split()[0] for line in late if line.startswith("s-")] == ids[-3:]
    assert late[-1] == "and 2 more seminars: opsflow status --all"

"""The command line, through click's CliRunner: exit codes, exact messages, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
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
    "deliveries list",
    "deliveries resolve",
    "report fetch",
    "report show",
    "survey import",
    "summary",
    "series",
    "run-due",
    "doctor",
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
    "summary",
    "run-due",
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
    "report show",
    "report export",
    "report draft",
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
    assert result.stdout == f"ok: {example_jobs} (example-seminar, 10 steps)\n"


def test_validate_json(run, example_jobs):
    result = run("validate", "--json", str(example_jobs))
    assert json.loads(result.stdout) == {
        "ok": True,
        "files": [{"path": str(example_jobs), "event": "example-seminar", "steps": 10}],
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
    assert [s["key"] for s in event["steps"]][:3] == ["zoom.create", "registrants.sync", "mail.invitation"]
    assert event["steps"][2]["due_at"] == "2027-01-07T10:00:00+09:00"
    assert data["warnings"] == []


def test_apply_status_and_move(run, example_jobs):
    first = run("apply", "--now", NOW)
    assert (first.exit_code, first.stdout) == (0, "example-seminar: new event, 10 steps planned\n")
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

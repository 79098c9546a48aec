"""`opsflow registrants ...` through the CLI: exact output, exit codes, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from .conftest import REPO
from .test_cli import NOW, run  # noqa: F401  (the `run` fixture)
from .test_cli_zoom import zoom_env  # noqa: F401

CP932 = REPO / "tests" / "data" / "registrants" / "seminar-cp932.csv"


@pytest.fixture
def applied(run, example_jobs):  # noqa: F811
    assert run("apply", "--now", NOW).exit_code == 0
    return example_jobs


def test_import_cp932_with_bad_rows_then_no_change(run, applied, tmp_path):  # noqa: F811
    form = tmp_path / "form.csv"
    shutil.copy(CP932, form)
    first = run("registrants", "import", "example-seminar", "form.csv")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "example-seminar: form.csv (9 people, cp932): 9 added, 0 updated, 0 cancelled, 0 unchanged"
    assert "  added      t-yamazaki@city.morioka.lg.jp" in lines
    assert "  rows 3, 11: the same person (k-takahashi@city.itoshima.lg.jp); kept row 11" in lines
    assert "  3 blank rows skipped" in lines
    assert first.stderr == (
        "Warning: form.csv row 8: 'yamada@@city' is not a valid email address; row skipped\n"
        "Warning: form.csv row 9: no email address; row skipped\n"
        "Warning: form.csv row 10: no name; row skipped\n"
    )

    second = run("registrants", "import", "example-seminar", "form.csv")
    assert second.stdout.splitlines()[:2] == [
        "example-seminar: form.csv (9 people, cp932): 0 added, 0 updated, 0 cancelled, 9 unchanged",
        "example-seminar: no change",
    ]


def test_import_default_file_json(run, applied):  # noqa: F811
    data = json.loads(run("registrants", "import", "example-seminar", "--json").stdout)
    assert (data["encoding"], data["people_in_file"], len(data["added"]), data["problems"]) == ("utf-8-sig", 40, 40, [])


def test_import_dry_run(run, applied):  # noqa: F811
    dry = run("registrants", "import", "example-seminar", "--dry-run")
    assert dry.stdout.startswith("(dry run) example-seminar: ")
    assert json.loads(run("registrants", "list", "example-seminar", "--json").stdout) == []


def test_import_file_without_email_column(run, applied, tmp_path):  # noqa: F811
    (tmp_path / "bad.csv").write_text("氏名,所属\n山田 太郎,加賀市\n", encoding="utf-8")
    result = run("registrants", "import", "example-seminar", "bad.csv")
    assert (result.exit_code, result.stderr) == (
        2,
        (
            "Error: bad.csv:1: no email column; the columns are: 氏名, 所属; name it under [registrants.columns] "
            'email = "..." in the job file\n'
        ),
    )


def test_list_add_cancel(run, applied):  # noqa: F811
    run("registrants", "import", "example-seminar")
    added = run(
        "registrants",
        "add",
        "example-seminar",
        "k-sato@city.example.lg.jp",
        "--name",
        "佐藤 健",
        "--organization",
        "北海道北見市",
    )
    assert added.stdout == "k-sato@city.example.lg.jp added\n"
    cancelled = run("registrants", "cancel", "example-seminar", "t-yamada@city.kaga.lg.jp")
    assert cancelled.stdout == "t-yamada@city.kaga.lg.jp cancelled\n"

    table = run("registrants", "list", "example-seminar").stdout.splitlines()
    assert table[-1] == "40 active, 1 cancelled"
    people = json.loads(run("registrants", "list", "example-seminar", "--json").stdout)
    sato = next(p for p in people if p["email"] == "k-sato@city.example.lg.jp")
    assert (sato["source"], sato["family_name"], sato["given_name"], sato["join_link"]) == (
        "manual",
        "佐藤",
        "健",
        None,
    )

    raw = run("registrants", "list", "example-seminar", "--csv").stdout_bytes
    assert raw.startswith("\ufeffemail,name,organization,department,status,source,join_link,language\r\n".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 41 and rows[0]["email"] == "t-yamada@city.kaga.lg.jp" and rows[0]["status"] == "cancelled"


def test_add_needs_a_name(run, applied):  # noqa: F811
    result = run("registrants", "add", "example-seminar", "a@example.jp")
    assert result.exit_code == 2 and "Missing option '--name'" in result.stderr


def test_sync_registers_with_zoom(run, applied, zoom_env, fake_zoom):  # noqa: F811
    run("zoom", "create", "example-seminar", env=zoom_env)
    result = run("registrants", "sync", "example-seminar", env=zoom_env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "example-seminar: zoom: 40 registered, 0 cancelled, 0 added from Zoom's registration page"
    )
    people = json.loads(run("registrants", "list", "example-seminar", "--json").stdout)
    assert all(p["join_link"].startswith("https://") and p["zoom_registrant_id"] for p in people)


def test_purge_too_early_and_bad_option(run, applied):  # noqa: F811
    too_early = run("registrants", "purge", "example-seminar", "--older-than", "180d")
    assert too_early.exit_code == 2
    assert too_early.stderr.startswith("Error: example-seminar ended on 2027-01-21; with --older-than 180d")
    bad = run("registrants", "purge", "example-seminar", "--older-than", "six months")
    assert bad.exit_code == 2 and "'six months': give a number of days, e.g. 180d" in bad.stderr


def test_unknown_event(run):  # noqa: F811
    result = run("registrants", "list", "nope")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: no event 'nope' in the database: check the id, or run `opsflow apply`\n",
    )


def test_add_and_cancel_dry_run_change_nothing(run, applied):  # noqa: F811
    run("registrants", "import", "example-seminar")
    before = run("registrants", "list", "example-seminar", "--json").stdout
    dry_add = run(
        "registrants", "add", "example-seminar", "K-Sato@City.Example.lg.jp", "--name", "佐藤 健", "--dry-run"
    )
    assert (dry_add.exit_code, dry_add.stdout) == (0, "(dry run, nothing changed) k-sato@city.example.lg.jp added\n")
    dry_cancel = run("registrants", "cancel", "example-seminar", "t-yamada@city.kaga.lg.jp", "--dry-run", "--json")
    assert dry_cancel.exit_code == 0, dry_cancel.output
    assert json.loads(dry_cancel.stdout) == {
        "event": "example-seminar",
        "email": "t-yamada@city.kaga.lg.jp",
        "dry_run": True,
        "previous_status": "active",
        "status": "cancelled",
        "message": "t-yamada@city.kaga.lg.jp cancelled",
    }
    assert run("registrants", "list", "example-seminar", "--json").stdout == before
    unknown = run("registrants", "cancel", "example-seminar", "nobody@example.jp", "--dry-run")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "Error: nobody@example.jp is not registered for example-seminar: see "
        "`opsflow registrants list example-seminar`\n",
    )


def test_add_and_cancel_json(run, applied):  # noqa: F811
    added = run("registrants", "add", "example-seminar", "k-sato@city.example.lg.jp", "--name", "佐藤 健", "--json")
    assert json.loads(added.stdout) == {
        "event": "example-seminar",
        "email": "k-sato@city.example.lg.jp",
        "dry_run": False,
        "previous_status": None,
        "status": "active",
        "message": "k-sato@city.example.lg.jp added",
    }
    cancelled = json.loads(
        run("registrants", "cancel", "example-seminar", "k-sato@city.example.lg.jp", "--json").stdout
    )
    assert (cancelled["previous_status"], cancelled["status"]) == ("active", "cancelled")
    again = json.loads(
        run("registrants", "add", "example-seminar", "k-sato@city.example.lg.jp", "--name", "佐藤 健", "--json").stdout
    )
    assert (again["previous_status"], again["message"]) == ("cancelled", "k-sato@city.example.lg.jp registered again")
    people = json.loads(run("registrants", "list", "example-seminar", "--json").stdout)
    assert [(p["email"], p["status"]) for p in people] == [("k-sato@city.example.lg.jp", "active")]


def test_list_csv_to_a_file_or_stdout(run, applied, tmp_path):  # noqa: F811
    run("registrants", "import", "example-seminar")
    header = "\ufeffemail,name,organization,department,status,source,join_link,language\r\n".encode()
    to_stdout = run("registrants", "list", "example-seminar", "--csv", "-")
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes.startswith(header)
    assert len(to_stdout.stdout_bytes.decode("utf-8-sig").splitlines()) == 41
    to_file = run("registrants", "list", "example-seminar", "--csv", "people.csv")
    assert to_file.stdout == "example-seminar: 40 people written to people.csv\n"
    assert (tmp_path / "people.csv").read_bytes() == to_stdout.stdout_bytes
    both = run("registrants", "list", "example-seminar", "--csv", "-", "--json")
    assert (both.exit_code, both.stdout) == (2, "")
    assert "--csv - and --json would both print to stdout: give --csv a file name" in both.stderr
    unwritable = run("registrants", "list", "example-seminar", "--csv", str(tmp_path / "no" / "such" / "x.csv"))
    assert unwritable.exit_code == 2 and unwritable.stderr.startswith("Error: cannot write ")

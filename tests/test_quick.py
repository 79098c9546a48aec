"""`opsflow.cli.quick`: the settings it reads, its options, the due check on SQLite and PostgreSQL, and
`opsflow run-due` with nothing due as cron starts it: the same output as the ordinary path, without
loading click, SQLAlchemy or anything a step needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsflow.cli.quick import SCHEMA, database_url, has_due_steps, postgres_connect_args, run_due_options
from opsflow.core.apply import apply_events
from opsflow.core.config import load_settings
from opsflow.core.jobspec import load_job
from opsflow.store import open_store
from opsflow.store.migrations import HEAD, revision_id

from .conftest import NOW


@pytest.mark.parametrize("line,expected", [
    ("OPSFLOW_DATABASE_URL=sqlite:///data/ops.db", "sqlite:///data/ops.db"),
    ("export OPSFLOW_DATABASE_URL='sqlite:///data/ops.db'", "sqlite:///data/ops.db"),
    ('OPSFLOW_DATABASE_URL = "postgresql+psycopg://u@h/db"', "postgresql+psycopg://u@h/db"),
    # expanded as python-dotenv expands it: the quick path reads `.env` with the same reader
    ("OPSFLOW_DATABASE_URL=sqlite:///${HOME}/ops.db", f"sqlite:///{os.environ.get('HOME', '')}/ops.db"),
    ("OPSFLOW_JOBS_DIR=jobs", "sqlite:///opsflow.db"),
])
def test_database_url_matches_the_full_settings(tmp_path, line, expected):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"# settings\n{line}\n", encoding="utf-8")
    assert database_url({}, str(dotenv)) == expected
    if expected is not None:
        assert load_settings({}, dotenv).database_url.reveal() == expected
    assert database_url({"OPSFLOW_DATABASE_URL": "sqlite:///env.db"}, str(dotenv)) == "sqlite:///env.db"


def test_due_check_agrees_with_the_store(db_url, example_jobs):
    assert has_due_steps(db_url, NOW) is None  # no database (tables) yet: the ordinary path makes it
    store = open_store(db_url)
    apply_events(store, [load_job(example_jobs)], NOW)
    assert has_due_steps(db_url, NOW) is True  # the steps due "on apply"
    assert has_due_steps(db_url, NOW - timedelta(seconds=1)) is False
    jobs = str(example_jobs.parent)
    assert has_due_steps(db_url, NOW - timedelta(seconds=1), jobs) is False
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert has_due_steps(db_url, NOW - timedelta(seconds=1), jobs) is True  # changed since applied
    store.dispose()


# --- the quick path as cron runs it, on SQLite and PostgreSQL -----------------------------------------

QUICK = "import sys; from opsflow.cli.entry import main; main()"  # `python -m opsflow`
ORDINARY = "import sys; from opsflow.cli.main import cli; cli(prog_name='opsflow')"  # never the quick path
# Run a command, then write on stderr the top-level packages it loaded (the last line).
LOADED = (
    "import atexit, sys; atexit.register(lambda: print('loaded:', ' '.join(sorted({m.split('.')[0] "
    "for m in sys.modules})), file=sys.stderr)); "
)
HEAVY = ("pydantic", "requests", "jinja2", "matplotlib", "rich", "holidays", "alembic")
NOTHING_DUE_ARGS = [
    [],
    ["--json"],
    ["--log-format", "json"],
    ["--log-format=text"],
    ["--dry-run"],
    ["--dry-run", "--json"],
    ["--now", "2026-11-26T09:00:00+09:00", "--json"],
]


def _without_zoom(job: Path) -> None:
    """The example without its [zoom] table: its on-apply step (the registrant sync) needs no Zoom; and
    without the 受付完了 (no mail server is set here)."""
    kept, skipping = [], False
    for line in job.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("["):
            skipping = line.strip() == "[zoom]"
        if not skipping:
            kept.append(line)
        if line.strip() == 'language = "ja"':
            kept.append("confirmation = false")
    job.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _opsflow(code: str, args: list[str], folder: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *extra, "-c", code, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cron_folder(tmp_path, example_jobs, db_url):
    """A seminars folder (the Zoom-less example) applied to `db_url`, its on-apply step run at NOW: from
    then until the invitation nothing is due. Returns (folder, env)."""
    _without_zoom(example_jobs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    env.update(OPSFLOW_DATABASE_URL=db_url, OPSFLOW_JOBS_DIR=str(example_jobs.parent))
    at = NOW.isoformat()
    assert _opsflow(ORDINARY, ["apply", "--now", at], tmp_path, env).returncode == 0
    ran = _opsflow(QUICK, ["run-due", "--now", at], tmp_path, env)
    assert ran.stdout == "example-seminar: registrants.sync done (40 added, 0 cancelled)\n", ran.stderr
    return tmp_path, env


def test_nothing_due_prints_what_the_ordinary_path_prints(cron_folder):
    folder, env = cron_folder
    for args in NOTHING_DUE_ARGS:
        quick = _opsflow(LOADED + QUICK, ["run-due", *args], folder, env)
        ordinary = _opsflow(LOADED + ORDINARY, ["run-due", *args], folder, env)
        assert (quick.returncode, quick.stdout) == (ordinary.returncode, ordinary.stdout) == (
            0,
            "[]\n" if "--json" in args else "",
        ), args
        quick_loaded = quick.stderr.split("loaded: ")[-1].split()
        ordinary_loaded = ordinary.stderr.split("loaded: ")[-1].split()
        assert quick.stderr.startswith("loaded: ") and ordinary.stderr.startswith("loaded: "), args
        # the quick path loads neither click nor SQLAlchemy; the ordinary one nothing a step would need
        assert not {"click", "sqlalchemy", *HEAVY} & set(quick_loaded), args
        assert "click" in ordinary_loaded and not set(HEAVY) & set(ordinary_loaded), args


def test_a_due_step_or_a_changed_job_file_takes_the_ordinary_path(cron_folder, example_jobs):
    folder, env = cron_folder
    assert _opsflow(QUICK, ["run-due", "--now", NOW.isoformat()], folder, env).stdout == ""
    # the invitation is due (it fails: no mail server is set, and says so)
    due = _opsflow(QUICK, ["run-due", "--now", "2027-01-07T10:00:00+09:00", "--json"], folder, env)
    assert [(r["key"], r["state"]) for r in json.loads(due.stdout)] == [("mail.invitation", "failed")]
    assert due.returncode == 1
    # a job file edited since it was applied is applied again
    example_jobs.write_text(example_jobs.read_text(encoding="utf-8").replace("T18:00:00+09:00", "T19:00:00+09:00"))
    moved = _opsflow(QUICK, ["run-due", "--now", NOW.isoformat()], folder, env)
    assert moved.stdout.startswith("example-seminar: job-file applied (seminar moved from 2027-01-21 18:00 JST to "
                                   "2027-01-21 19:00 JST"), moved.stdout + moved.stderr
    assert _opsflow(QUICK, ["run-due", "--now", NOW.isoformat()], folder, env).stdout == ""


@pytest.mark.parametrize("args,expected", [
    ([], {"now": None, "as_json": False, "dry_run": False}),
    (["--json", "--dry-run"], {"now": None, "as_json": True, "dry_run": True}),
    (["--log-format", "json", "--now=2027-01-07T10:00:00+09:00"],
     {"now": datetime(2027, 1, 7, 1, 0, tzinfo=UTC), "as_json": False, "dry_run": False}),
    (["--now", "2027-01-07T10:00:00"], None),  # no offset: the ordinary path says so
    (["--now", "soon"], None),
    (["--now"], None),
    (["--now="], None),
    (["--log-format", "JSON"], None),
    (["--json", "--json"], None),
    (["--json=1"], None),
    (["--help"], None),
    (["-h"], None),
    (["--verbose"], None),
])
def test_run_due_options(args, expected):
    assert run_due_options(args) == expected


def test_quick_queries_are_written_for_the_store_schema():
    assert SCHEMA == revision_id(HEAD)


def test_an_older_schema_takes_the_ordinary_path(db_url, example_jobs):
    store = open_store(db_url)
    apply_events(store, [load_job(example_jobs)], NOW)
    assert has_due_steps(db_url, NOW - timedelta(seconds=1)) is False
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
    assert has_due_steps(db_url, NOW - timedelta(seconds=1)) is None
    store.dispose()


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://ops:p%40ss%3Aw%2Frd@db.example.jp/ops?sslmode=require&connect_timeout=5",
    "postgresql+psycopg://ops@[::1]:5433/ops?options=-csearch_path%3Dt_1",
    "postgresql+psycopg:///ops?host=/var/run/postgresql",
    "postgresql+psycopg://",
])
def test_postgres_connection_arguments_are_sqlalchemy_s(url):
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.engine import make_url

    _, expected = PGDialect_psycopg().create_connect_args(make_url(url))
    if "?host=" in url:
        assert postgres_connect_args(url) is None  # SQLAlchemy reads hosts from the query: not for the quick path
    else:
        assert postgres_connect_args(url) == expected


@pytest.mark.parametrize("url", [
    "postgresql://u@h/db",  # psycopg2 by SQLAlchemy's default
    "postgresql+psycopg2://u@h/db",
    "postgresql+psycopg://u@h:port/db",
    "postgresql+psycopg://u@h/db?host=a&host=b",
    "postgresql+psycopg://u@h/db?sslmode=require&sslmode=disable",
    "mysql://u@h/db",
    "postgresql+psycopg://postgres@127.0.0.1:1/test",  # nobody listens there: the ordinary path says so
])
def test_other_urls_take_the_ordinary_path(url):
    assert has_due_steps(url, NOW) is None

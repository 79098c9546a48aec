"""Shared fixtures: job files written into a temp folder, databases (SQLite file, PostgreSQL when set)."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_JOB = REPO / "jobs" / "example-seminar.toml"
EXAMPLE_CSV = REPO / "jobs" / "registrants" / "example-seminar.csv"
PG_URL = os.environ.get("OPSFLOW_TEST_DATABASE_URL")

# A job file with the least a seminar needs; tests add sections with `extra`.
MINIMAL_JOB = """\
[event]
id = "{id}"
title = "テストセミナー"
start = 2027-01-21T18:00:00+09:00
duration = "90m"
"""

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def write_job(tmp_path: Path):
    """write_job(text, name="seminar.toml") -> Path: write a job file (dedented) into tmp_path/jobs."""
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)

    def write(text: str, name: str = "seminar.toml") -> Path:
        path = jobs / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def example_jobs(tmp_path: Path) -> Path:
    """A copy of the shipped example job and its CSV in tmp_path/jobs; returns the job file."""
    jobs = tmp_path / "jobs"
    (jobs / "registrants").mkdir(parents=True)
    shutil.copy(EXAMPLE_JOB, jobs / EXAMPLE_JOB.name)
    shutil.copy(EXAMPLE_CSV, jobs / "registrants" / EXAMPLE_CSV.name)
    return jobs / EXAMPLE_JOB.name


def _pg_url_or_skip() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need OPSFLOW_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return PG_URL


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    base = _pg_url_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> str:
    """Each store test runs on a SQLite file, and on PostgreSQL when OPSFLOW_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'opsflow.db'}"
    return request.getfixturevalue("pg_url")

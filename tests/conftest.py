"""Shared fixtures: job files written into a temp folder, databases (SQLite file, PostgreSQL when set)."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from datetime import datetime, timedelta, timezone
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


class VirtualClock:
    """Time for tests: `sleep` advances it at once, so retries and pacing never wait."""

    def __init__(self, start: datetime = datetime(2027, 1, 21, 8, 0, tzinfo=timezone.utc)) -> None:
        self.wall = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return (self.wall - datetime(2000, 1, 1, tzinfo=timezone.utc)).total_seconds()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.wall += timedelta(seconds=seconds)

    def advance(self, **delta) -> None:
        self.wall += timedelta(**delta)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def fake_zoom(clock):
    """A fake Zoom on loopback sharing the test's virtual clock. At the end, every exchange the test made
    is checked against Zoom's OpenAPI document (when it is present)."""
    from opsflow.sandbox.zoom import FakeZoom

    from . import zoomspec

    with FakeZoom(clock=clock.now) as fake:
        yield fake
    if zoomspec.spec_path() is None:
        return
    problems = [p for exchange in fake.recorded for p in zoomspec.check_exchange(exchange)]
    assert problems == [], "requests or responses that Zoom's OpenAPI document does not allow:\n" + "\n".join(problems)


@pytest.fixture
def zoom(fake_zoom, clock):
    """An opsflow Zoom client pointed at the fake, with virtual time."""
    import random

    from opsflow.core.config import Secret
    from opsflow.zoom import Credentials, RetryPolicy, Zoom

    credentials = Credentials(fake_zoom.account_id, fake_zoom.client_id, Secret(fake_zoom.client_secret))
    client = Zoom(credentials, api_url=fake_zoom.api_url, oauth_url=fake_zoom.oauth_url, timeout=(2.0, 5.0),
                  retry=RetryPolicy(), clock=clock.monotonic, sleep=clock.sleep, now=clock.now,
                  rng=random.Random(7))
    yield client
    client.session.close()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on loopback that records messages and fails on demand."""
    from .smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def store(db_url):
    """A migrated store on each database of `db_url`."""
    from opsflow.store import open_store

    store = open_store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def event(store, example_jobs):
    """The example seminar, applied to `store`."""
    from opsflow.core.apply import apply_events
    from opsflow.core.jobspec import load_job

    event = load_job(example_jobs)
    apply_events(store, [event], NOW)
    return event

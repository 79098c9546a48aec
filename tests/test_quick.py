"""`opsflow.cli.quick`: the database URL read without python-dotenv, and the due check on SQLite."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from opsflow.core.apply import apply_events
from opsflow.core.config import load_settings
from opsflow.core.jobspec import load_job
from opsflow.cli.quick import database_url, has_due_steps
from opsflow.store import open_store

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


def test_due_check_agrees_with_the_store(tmp_path, example_jobs):
    url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    assert has_due_steps(url, NOW) is None  # no database yet: the ordinary path makes it
    store = open_store(url)
    apply_events(store, [load_job(example_jobs)], NOW)
    assert has_due_steps(url, NOW) is True  # the steps due "on apply"
    assert has_due_steps(url, NOW - timedelta(seconds=1)) is False
    assert has_due_steps("postgresql+psycopg://u@h/db", NOW) is None
    store.dispose()

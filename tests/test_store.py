"""The store on a real SQLite file, and on PostgreSQL when OPSFLOW_TEST_DATABASE_URL is set."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from opsflow import store as db
from opsflow.core.errors import StoreError
from opsflow.store import HEAD, Store, open_store

T0 = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)


def _event_values(event_id: str = "s1") -> dict:
    return {
        "id": event_id, "title": "テスト", "start_at": T0, "end_at": T0 + timedelta(minutes=90),
        "timezone": "Asia/Tokyo", "language": "ja", "source_path": "jobs/s1.toml",
        "spec_json": "{}", "spec_hash": "abc",
    }


def test_new_database_is_migrated_to_head(db_url):
    store = open_store(db_url)
    assert store.schema_version() == HEAD
    with store.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"events", "steps", "registrants", "deliveries", "attendance", "alembic_version"} <= tables
    assert store.migrate() == []  # a second run applies nothing
    store.dispose()


def test_upgrade_from_first_schema_keeps_data(db_url):
    store = Store(db_url)
    assert store.migrate(target=1) == [1]
    with store.begin() as conn:
        db.insert_event(conn, _event_values(), T0)
        db.insert_step(conn, "s1", {"key": "mail.invitation", "kind": "mail.invitation", "due_at": T0,
                                    "at_expr": "start - 14d @ 10:00"}, T0)
    with store.read() as conn:
        assert "lease_owner" not in {c["name"] for c in sa.inspect(conn).get_columns("steps")}

    assert store.migrate() == list(range(2, HEAD + 1))
    assert store.schema_version() == HEAD
    with store.read() as conn:
        assert {"lease_owner", "lease_until"} <= {c["name"] for c in sa.inspect(conn).get_columns("steps")}
        (step,) = db.list_steps(conn, ["s1"])
    assert (step["key"], step["state"], step["due_at"], step["lease_owner"]) == ("mail.invitation", "planned", T0, None)
    store.dispose()


def test_times_come_back_aware_utc(db_url):
    store = open_store(db_url)
    jst = timezone(timedelta(hours=9))
    with store.begin() as conn:
        db.insert_event(conn, {**_event_values(), "start_at": T0.astimezone(jst)}, T0)
    with store.read() as conn:
        row = db.get_event(conn, "s1")
    assert row["start_at"] == T0 and row["start_at"].tzinfo == UTC
    store.dispose()


def test_naive_datetime_is_refused(db_url):
    store = open_store(db_url)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with store.begin() as conn:
            db.insert_event(conn, {**_event_values(), "start_at": datetime(2027, 1, 21, 9)}, T0)
    store.dispose()


def test_step_key_is_unique_per_event(db_url):
    store = open_store(db_url)
    step = {"key": "report.fetch", "kind": "report.fetch", "due_at": T0, "at_expr": "end + 30m"}
    with store.begin() as conn:
        db.insert_event(conn, _event_values(), T0)
        db.insert_step(conn, "s1", step, T0)
    with pytest.raises(sa.exc.IntegrityError):
        with store.begin() as conn:
            db.insert_step(conn, "s1", step, T0)
    with store.read() as conn:
        assert len(db.list_steps(conn, ["s1"])) == 1  # the failed transaction left nothing behind
    store.dispose()


def test_sqlite_uses_wal(tmp_path):
    path = tmp_path / "opsflow.db"
    open_store(f"sqlite:///{path}").dispose()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as err:
        open_store(f"sqlite:///{path}")
    assert str(err.value) == (
        f"cannot use sqlite:///{path}: the file is not an SQLite database; point OPSFLOW_DATABASE_URL "
        "at an opsflow database or a new file name"
    )
    assert path.read_text().startswith("these are my notes")  # nothing overwritten


def test_missing_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'nowhere' / 'opsflow.db'}"
    with pytest.raises(StoreError) as err:
        open_store(url)
    assert str(err.value) == (
        f"cannot open {url}: the folder {tmp_path / 'nowhere'} does not exist; create it or set "
        "OPSFLOW_DATABASE_URL to a file in an existing folder"
    )


def test_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    store = open_store(url)
    with store.begin() as conn:  # as a later opsflow's Alembic revision would leave it
        conn.execute(db.alembic_version.update().values(version_num=f"{HEAD + 1:04d}"))
    message = rf"has schema version {HEAD + 1}, newer than this opsflow knows \({HEAD}\); upgrade opsflow"
    with pytest.raises(StoreError, match=message):
        store.migrate()
    with pytest.raises(StoreError, match=message):
        store.schema_version()
    store.dispose()


def test_password_never_in_store_errors():
    with pytest.raises(StoreError) as err:
        Store("postgresql+nosuchdriver://user:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(err.value)
    assert "user:***@127.0.0.1:1" in str(err.value)


def test_migrations_build_exactly_the_declared_tables(db_url):
    store = open_store(db_url)
    with store.read() as conn:
        inspector = sa.inspect(conn)
        for table in db.metadata.sorted_tables:
            assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
    store.dispose()

"""Schema revisions (Alembic) on a SQLite file, and on PostgreSQL when OPSFLOW_TEST_DATABASE_URL is set: a new
database, one at an older revision, and databases made by release 0.1 (dumps in tests/data/db) upgraded in place."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from opsflow import store as db
from opsflow.core.apply import apply_events
from opsflow.core.errors import StoreError
from opsflow.core.jobspec import load_job
from opsflow.store import HEAD, Store, open_store
from opsflow.store.migrations import alembic_config, revision_id

from .conftest import NOW, REPO

DUMPS = Path(__file__).resolve().parent / "data" / "db"
T0 = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)


def _load_dump(url: str, name: str) -> None:
    """Load a dump of tests/data/db into the (empty) database at `url`, with the driver alone."""
    text = (DUMPS / name.format(dialect="sqlite" if url.startswith("sqlite") else "postgresql")).read_text("utf-8")
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sa.engine.make_url(url).database)
        conn.executescript(text)
        conn.close()
        return
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(text)  # no parameters: the driver sends the statements as they are
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def _shape(store: Store) -> dict:
    """What a database holds apart from rows: its revision, tables, columns (name, type, nullable) and indexes."""
    with store.read() as conn:
        inspector = sa.inspect(conn)
        tables = {
            name: ([(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                   sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)))
            for name in inspector.get_table_names()
        }
        revisions = conn.execute(sa.select(db.alembic_version.c.version_num)).scalars().all()
    return {"revisions": revisions, "tables": tables}


def _assert_declared_tables(store: Store) -> None:
    with store.read() as conn:
        inspector = sa.inspect(conn)
        for table in db.metadata.sorted_tables:
            assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
            declared = {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes}
            found = {(i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table.name)}
            assert declared <= found, table.name  # the revisions made every index schema.py declares


def test_revisions_are_one_line_from_0001_to_head():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [revision_id(HEAD)]
    chain = [(s.revision, s.down_revision) for s in reversed(list(scripts.walk_revisions()))]
    assert chain == [(revision_id(v), revision_id(v - 1) if v > 1 else None) for v in range(1, HEAD + 1)]


def test_new_database_gets_every_revision(db_url):
    store = Store(db_url)
    assert store.schema_version() == 0
    assert store.migrate() == list(range(1, HEAD + 1))
    assert store.schema_version() == HEAD
    assert _shape(store)["revisions"] == [revision_id(HEAD)]
    _assert_declared_tables(store)
    with store.read() as conn:
        assert not sa.inspect(conn).has_table("schema_migrations")  # release 0.1's record is not made any more
    store.dispose()


def test_migrate_twice_changes_nothing(db_url):
    store = open_store(db_url)
    shape = _shape(store)
    assert store.migrate() == []
    assert _shape(store) == shape
    store.dispose()


@pytest.mark.parametrize("runners", [4])
def test_runners_starting_together_apply_each_revision_once(db_url, runners):
    stores = [Store(db_url) for _ in range(runners)]
    applied: list[list[int]] = []
    threads = [threading.Thread(target=lambda s=s: applied.append(s.migrate())) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(v for versions in applied for v in versions) == list(range(1, HEAD + 1))
    assert sorted(applied, key=len)[:-1] == [[]] * (runners - 1)  # one runner did it all, the others waited
    for store in stores:
        store.dispose()


def test_database_at_an_older_revision_is_brought_to_head(db_url):
    store = Store(db_url)
    from alembic import command

    with store.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        conn.execute(sa.text("INSERT INTO events (id, title, start_at, end_at, timezone, language, source_path, "
                             "spec_json, spec_hash, created_at, updated_at) VALUES ('s1', 'テスト', :t, :t, "
                             "'Asia/Tokyo', 'ja', 'jobs/s1.toml', '{}', 'abc', :t, :t)"), {"t": T0.replace(tzinfo=None)})
    assert store.schema_version() == 5
    with store.read() as conn:
        assert not sa.inspect(conn).has_table("job_files")

    assert store.migrate() == list(range(6, HEAD + 1))
    assert store.schema_version() == HEAD
    _assert_declared_tables(store)
    with store.read() as conn:
        event = db.get_event(conn, "s1")
    assert (event["title"], event["start_at"], event["previous_start_at"]) == ("テスト", T0, None)
    store.dispose()


def test_release_database_at_an_older_version_is_taken_over(db_url):
    """A database an older 0.1 build left at migration 5: stamped "0005", then brought to head."""
    store = Store(db_url)
    assert store.migrate(target=5) == [1, 2, 3, 4, 5]
    with store.begin() as conn:  # make it look like release 0.1's: its own record, no Alembic table
        db.alembic_version.drop(conn)
        db.schema_migrations.create(conn)
        conn.execute(db.schema_migrations.insert(), [{"version": v, "name": f"m{v}", "applied_at": datetime(2026, 1, 1)}
                                                     for v in range(1, 6)])
    assert store.schema_version() == 5
    assert store.migrate() == list(range(6, HEAD + 1))
    assert _shape(store)["revisions"] == [revision_id(HEAD)]
    _assert_declared_tables(store)
    store.dispose()


def test_release_0_1_database_is_upgraded_in_place(db_url, example_jobs):
    _load_dump(db_url, "release-0.1-{dialect}.sql")
    assert Store(db_url).schema_version() == 8  # read from schema_migrations before the take-over

    store = open_store(db_url)
    assert store.schema_version() == HEAD
    assert _shape(store)["revisions"] == [revision_id(HEAD)]  # stamped "0008": nothing to rebuild
    _assert_declared_tables(store)
    with store.read() as conn:
        event = db.get_event(conn, "release-seminar")
        steps = [(s["key"], s["state"]) for s in db.list_steps(conn, ["release-seminar"])]
        registrant = db.get_registrant(conn, "release-seminar", "hanako@example.org")
        deliveries = [(d["recipient"], d["state"]) for d in db.list_deliveries(conn, "release-seminar")]
        job_file = db.get_job_file(conn, "/srv/opsflow/jobs/release.toml")
        legacy = conn.execute(sa.select(db.schema_migrations.c.version)).scalars().all()
    assert event["title"] == "リリース時のセミナー"
    assert event["start_at"] == datetime(2027, 2, 18, 9, 0, tzinfo=UTC)
    assert steps == [("mail.invitation", "done"), ("mail.reminder", "planned")]
    assert (registrant["family_name"], registrant["given_name"], registrant["row_number"]) == ("山田", "花子", 2)
    assert deliveries == [("hanako@example.org", "pending")]
    assert (job_file["event_id"], job_file["size"]) == ("release-seminar", 1234)
    assert legacy == list(range(1, 9))  # release 0.1's record is left as it was

    shape = _shape(store)
    assert store.migrate() == []
    assert _shape(store) == shape

    (result,) = apply_events(store, [load_job(example_jobs)], NOW)  # the app works on it
    assert result.event_id == "example-seminar" and result.is_changed
    with store.begin() as conn:  # ids go on from the dump's (PostgreSQL's sequences came along)
        db.insert_registrant(conn, "release-seminar", {"email": "taro@example.org", "survey_token": "t1"}, NOW)
        db.insert_step(conn, "release-seminar", {"key": "mail.thanks", "kind": "mail.thanks",
                                                 "due_at": T0 + timedelta(days=30), "at_expr": "end + 1d"}, NOW)
    with store.read() as conn:
        assert [r["email"] for r in db.list_registrants(conn, "release-seminar")] == ["hanako@example.org",
                                                                                    "taro@example.org"]
        assert db.list_steps(conn, ["example-seminar"])
    store.dispose()


@pytest.fixture
def second_url(db_url, tmp_path):
    """Another empty database of the same kind as `db_url` (for PostgreSQL a second schema, dropped afterwards)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    first = sa.engine.make_url(db_url).query["options"].split("=")[-1]  # "-csearch_path=t_…" as conftest sets it
    yield db_url.replace(first, schema)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def test_release_0_1_and_new_databases_have_the_same_shape(db_url, second_url):
    _load_dump(db_url, "release-0.1-{dialect}.sql")
    assert second_url != db_url
    upgraded = open_store(db_url)
    new = open_store(second_url)
    old_shape, new_shape = _shape(upgraded), _shape(new)
    del old_shape["tables"]["schema_migrations"]
    assert old_shape == new_shape
    upgraded.dispose()
    new.dispose()


def test_newer_release_record_is_refused(db_url):
    _load_dump(db_url, "release-0.1-{dialect}.sql")
    store = Store(db_url)
    with store.begin() as conn:
        conn.execute(db.schema_migrations.insert().values(version=HEAD + 1, name="future", applied_at=datetime(2027, 1, 1)))
    with pytest.raises(StoreError, match=rf"has schema version {HEAD + 1}, newer than this opsflow knows \({HEAD}\)"):
        store.migrate()
    with store.read() as conn:
        assert not sa.inspect(conn).has_table("alembic_version")  # nothing stamped
    store.dispose()


def test_unknown_revision_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    store = open_store(url)
    with store.begin() as conn:
        conn.execute(db.alembic_version.update().values(version_num="ae1027a6acf"))
    with pytest.raises(StoreError) as err:
        store.migrate()
    assert str(err.value) == (f"{url} has schema revision 'ae1027a6acf', which this opsflow does not know (its "
                              f"newest is {HEAD}); upgrade opsflow, or check OPSFLOW_DATABASE_URL")
    store.dispose()


def test_up_to_date_database_opens_without_importing_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'opsflow.db'}"
    probe = ("import sys; from opsflow.store import open_store; store = open_store(sys.argv[1]); "
             "print(store.schema_version(), 'alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, cwd=REPO)
            for _ in range(2)]
    assert [(r.returncode, r.stderr) for r in runs] == [(0, ""), (0, "")]
    assert [r.stdout.split() for r in runs] == [[str(HEAD), "True"], [str(HEAD), "False"]]

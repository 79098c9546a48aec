"""Make the database fixtures of a release: `python tests/data/db/make_dump.py LABEL [PG_URL]`.

Run with the code of the release being captured (0.1 was made at commit ef86bf7, before Alembic). It opens a
new SQLite file and, given a PostgreSQL URL, a new schema with `open_store`, writes a few rows through the
store's own functions and dumps both next to this script: release-LABEL-sqlite.sql and
release-LABEL-postgresql.sql (schema names stripped, so the dump loads into any schema).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from opsflow import store as db

HERE = Path(__file__).resolve().parent
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
START = datetime(2027, 2, 18, 9, 0, tzinfo=UTC)
EVENT_ID = "release-seminar"


def fill(url: str) -> None:
    """Create the schema at `url` with the current code and write one event with its rows."""
    store = db.open_store(url)
    with store.begin() as conn:
        db.insert_event(conn, {"id": EVENT_ID, "series": "fixture", "title": "リリース時のセミナー",
                               "start_at": START, "end_at": START + timedelta(minutes=90),
                               "timezone": "Asia/Tokyo", "language": "ja", "source_path": "jobs/release.toml",
                               "spec_json": "{}", "spec_hash": "f" * 64}, T0)
        db.insert_step(conn, EVENT_ID, {"key": "mail.invitation", "kind": "mail.invitation", "due_at": START - timedelta(days=14),
                                        "at_expr": "start - 14d @ 10:00", "state": "done", "finished_at": T0}, T0)
        db.insert_step(conn, EVENT_ID, {"key": "mail.reminder", "kind": "mail.reminder", "due_at": START - timedelta(days=1),
                                        "at_expr": "start - 1d @ 10:00"}, T0)
        db.insert_registrant(conn, EVENT_ID, {"email": "hanako@example.org", "name": "山田 花子",
                                              "family_name": "山田", "given_name": "花子", "organization": "例市",
                                              "row_number": 2}, T0)
        db.claim_deliveries(conn, EVENT_ID, "mail.invitation", ["hanako@example.org"], T0)
        db.record_job_file(conn, {"path": "/srv/opsflow/jobs/release.toml", "event_id": EVENT_ID,
                                  "mtime_ns": 1764118800000000000, "size": 1234}, T0)
    store.dispose()


def dump_sqlite(label: str) -> Path:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opsflow.db"
        fill(f"sqlite:///{path}")
        text = subprocess.run(["sqlite3", str(path), ".dump"], check=True, capture_output=True, text=True).stdout
    out = HERE / f"release-{label}-sqlite.sql"
    out.write_text(text, encoding="utf-8")
    return out


def dump_postgresql(label: str, base: str) -> Path:
    schema = f"dump_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        fill(f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}")
        u = sa.engine.make_url(base)
        command = ["pg_dump", "--no-owner", "--no-privileges", "--inserts", f"--schema={schema}", "-h", u.host or "127.0.0.1",
                   "-p", str(u.port or 5432), "-U", u.username or "postgres", u.database or "postgres"]
        text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
    out = HERE / f"release-{label}-postgresql.sql"
    out.write_text(strip_schema(text, schema), encoding="utf-8")
    return out


def strip_schema(text: str, schema: str) -> str:
    """pg_dump's text without the schema: no CREATE SCHEMA, no search_path, no comments naming it, no
    psql meta-commands, no `schema.` before names."""
    kept = [line for line in text.splitlines()
            if line and not line.startswith(("CREATE SCHEMA", "SELECT pg_catalog.set_config('search_path'", "--", "\\"))]
    return re.sub(rf"\b{schema}\.", "", "\n".join(kept) + "\n")


if __name__ == "__main__":
    label = sys.argv[1]
    print(dump_sqlite(label))
    if len(sys.argv) > 2:
        print(dump_postgresql(label, sys.argv[2]))

"""The cron fast path: is there anything to do? Answered with the standard library alone.

`opsflow run-due` starts every minute; loading the CLI, the settings and SQLAlchemy costs far more
than the answer. This module reads only OPSFLOW_DATABASE_URL and OPSFLOW_JOBS_DIR (the environment,
then `.env` through python-dotenv's reader, as `opsflow.core.config` does), asks SQLite directly whether a step is due, and looks at the
job files' modification times (a changed job file or CSV is applied again by the ordinary path). It
answers True, False or None ("cannot tell": PostgreSQL, an unreadable `.env`, a new or older database),
and on None the ordinary path runs. Every other setting is read by `opsflow.core.config`.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

DEFAULT_URL = "sqlite:///opsflow.db"
DEFAULT_JOBS_DIR = "jobs"
DUE = """
SELECT 1 FROM steps s JOIN events e ON e.id = s.event_id
WHERE (e.status = 'active' OR s.kind = 'mail.cancellation')
  AND ((s.state = 'planned' AND COALESCE(s.retry_at, s.due_at) <= ?) OR (s.state = 'running' AND s.lease_until < ?))
LIMIT 1
"""
JOB_FILES = "SELECT path, mtime_ns, size, csv_path, csv_mtime_ns, csv_size FROM job_files"


def setting(name: str, default: str, environ=None, dotenv_path: str = ".env") -> str | None:
    """The setting `name` as `opsflow.core.config` reads it: the environment, then `.env` read by
    python-dotenv's own reader (the same rules, at a fraction of the CLI's start-up cost); None when
    `.env` cannot be read (the ordinary path then explains)."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if value:
        return value
    if not os.path.isfile(dotenv_path):
        return default
    from dotenv.main import dotenv_values

    try:
        values = dotenv_values(dotenv_path, encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return (values.get(name) or "").strip() or default


def database_url(environ=None, dotenv_path: str = ".env") -> str | None:
    """OPSFLOW_DATABASE_URL as `opsflow.core.config` would read it, or None when `.env` is not plain."""
    return setting("OPSFLOW_DATABASE_URL", DEFAULT_URL, environ, dotenv_path)


def has_due_steps(url: str, now: datetime, jobs_dir: str | None = None) -> bool | None:
    """True or False for a SQLite database at `url`; None for anything else or any doubt. With
    `jobs_dir`, a job file there that is new or changed since applied counts as something due."""
    if not url.startswith("sqlite:///") or "?" in url or "%" in url:
        return None
    path = url[len("sqlite:///") :]
    if not os.path.isfile(path):
        return None  # a new database: the ordinary path creates and migrates it
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores times in SQLite
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            if conn.execute(DUE, (stamp, stamp)).fetchone() is not None:
                return True
            return jobs_dir is not None and _files_changed(conn.execute(JOB_FILES).fetchall(), jobs_dir)
        finally:
            conn.close()
    except sqlite3.Error:  # an older schema, a locked or broken file: let the ordinary path explain
        return None


def _files_changed(rows: list[tuple], jobs_dir: str) -> bool:
    recorded = {row[0]: row for row in rows}
    try:
        names = [n for n in os.listdir(jobs_dir) if n.endswith(".toml")]
    except OSError:
        names = []
    for name in names:
        row = recorded.get(os.path.realpath(os.path.join(jobs_dir, name)))
        if row is None or _stat(row[0]) != (row[1], row[2]) or (row[3] and _stat(row[3]) != (row[4], row[5])):
            return True
    return False


def _stat(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def nothing_due() -> bool:
    url = database_url()
    jobs_dir = setting("OPSFLOW_JOBS_DIR", DEFAULT_JOBS_DIR)
    if url is None or jobs_dir is None:
        return False
    return has_due_steps(url, datetime.now(UTC), jobs_dir) is False

"""The cron fast path: is anything due? Answered with the standard library alone.

`opsflow run-due` starts every minute; loading the CLI, the settings and SQLAlchemy costs far more
than the answer. This module reads only OPSFLOW_DATABASE_URL (the environment, then plain
`KEY=value` lines of `.env`) and asks SQLite directly. It answers True, False or None ("cannot tell":
PostgreSQL, an unusual `.env`, a new or older database), and on None the ordinary path runs. Every
other setting is read by `opsflow.config`.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone

DEFAULT_URL = "sqlite:///opsflow.db"
DUE = """
SELECT 1 FROM steps s JOIN events e ON e.id = s.event_id
WHERE (e.status = 'active' OR s.kind = 'mail.cancellation')
  AND ((s.state = 'planned' AND COALESCE(s.retry_at, s.due_at) <= ?) OR (s.state = 'running' AND s.lease_until < ?))
LIMIT 1
"""


def database_url(environ=None, dotenv_path: str = ".env") -> str | None:
    """OPSFLOW_DATABASE_URL as `opsflow.config` would read it, or None when `.env` is not plain."""
    env = os.environ if environ is None else environ
    value = env.get("OPSFLOW_DATABASE_URL", "").strip()
    if value:
        return value
    if not os.path.isfile(dotenv_path):
        return DEFAULT_URL
    with open(dotenv_path, encoding="utf-8") as lines:
        for raw in lines:
            line = raw.strip()
            if line.startswith("export "):
                line = line[len("export "):].strip()
            if not line.startswith("OPSFLOW_DATABASE_URL"):
                continue
            key, _, value = line.partition("=")
            value = value.strip()
            if key.strip() != "OPSFLOW_DATABASE_URL" or "$" in value or "#" in value or "\\" in value:
                return None
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            return value or DEFAULT_URL
    return DEFAULT_URL


def has_due_steps(url: str, now: datetime) -> bool | None:
    """True or False for a SQLite database at `url`; None for anything else or any doubt."""
    if not url.startswith("sqlite:///") or "?" in url or "%" in url:
        return None
    path = url[len("sqlite:///"):]
    if not os.path.isfile(path):
        return None  # a new database: the ordinary path creates and migrates it
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores times in SQLite
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(DUE, (stamp, stamp)).fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:  # an older schema, a locked or broken file: let the ordinary path explain
        return None


def nothing_due() -> bool:
    url = database_url()
    return url is not None and has_due_steps(url, datetime.now(timezone.utc)) is False

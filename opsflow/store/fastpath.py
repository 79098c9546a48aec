"""Is anything due? Answered with the standard library's sqlite3 alone, for `run-due` from cron.

Importing SQLAlchemy costs more than the whole check; this answers yes, no, or "cannot tell" (None),
and on None the caller takes the ordinary path.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

DUE = """
SELECT 1 FROM steps s JOIN events e ON e.id = s.event_id
WHERE e.status = 'active'
  AND ((s.state = 'planned' AND COALESCE(s.retry_at, s.due_at) <= ?) OR (s.state = 'running' AND s.lease_until < ?))
LIMIT 1
"""


def has_due_steps(url: str, now: datetime) -> bool | None:
    """True or False for a SQLite database at `url`; None for anything else or any doubt."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = Path(unquote(url[len("sqlite:///"):]))
    if not path.is_file():
        return None  # a new database: the ordinary path creates and migrates it
    stamp = now.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(DUE, (stamp, stamp)).fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:  # an older schema, a locked or broken file: let the ordinary path explain
        return None

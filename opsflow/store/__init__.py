"""The only database module: tables, migrations, transactions and queries (SQLAlchemy Core).

Use `open_store(url)` for a migrated `Store`, its `begin()` / `read()` transactions, and the query
functions re-exported here (`from opsflow import store as db; db.list_steps(conn, ...)`).
"""

from .engine import Store, Writer, open_store
from .migrations import HEAD, MIGRATIONS
from .queries import *  # noqa: F403
from .queries import __all__ as _queries
from .schema import (
    STEP_STATES, UTCDateTime, attendance, deliveries, events, metadata, registrants, report_rows, schema_migrations,
    steps, survey_responses, zoom_meetings,
)

__all__ = ["Store", "Writer", "open_store", "HEAD", "MIGRATIONS", "STEP_STATES", "UTCDateTime", "attendance", "deliveries",
           "events", "metadata", "registrants", "report_rows", "schema_migrations", "steps", "survey_responses",
           "zoom_meetings", *_queries]

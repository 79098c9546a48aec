"""Numbered migrations that upgrade a database in place; each is recorded in `schema_migrations`.

A migration builds its own tables so that it keeps describing the schema of its time however the
tables in `schema` change later. Never edit a released migration; append a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsflow.store.schema import UTCDateTime


def _m1_initial(conn: Connection) -> None:
    md = sa.MetaData()
    now_cols = lambda: (sa.Column("created_at", UTCDateTime, nullable=False),  # noqa: E731
                        sa.Column("updated_at", UTCDateTime, nullable=False))
    event_fk = lambda: sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"),  # noqa: E731
                                 nullable=False)
    sa.Table("events", md,
             sa.Column("id", sa.String(100), primary_key=True),
             sa.Column("series", sa.String(200), nullable=False, server_default=""),
             sa.Column("title", sa.Text, nullable=False),
             sa.Column("start_at", UTCDateTime, nullable=False),
             sa.Column("end_at", UTCDateTime, nullable=False),
             sa.Column("timezone", sa.String(64), nullable=False),
             sa.Column("language", sa.String(8), nullable=False),
             sa.Column("source_path", sa.Text, nullable=False),
             sa.Column("spec_json", sa.Text, nullable=False),
             sa.Column("spec_hash", sa.String(64), nullable=False),
             sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
             sa.Column("status", sa.String(16), nullable=False, server_default="active"),
             *now_cols())
    sa.Table("steps", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("key", sa.String(100), nullable=False),
             sa.Column("kind", sa.String(50), nullable=False),
             sa.Column("due_at", UTCDateTime, nullable=False),
             sa.Column("at_expr", sa.String(200), nullable=False),
             sa.Column("after_key", sa.String(100)),
             sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
             sa.Column("state", sa.String(16), nullable=False, server_default="planned"),
             sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
             sa.Column("last_error", sa.Text),
             sa.Column("started_at", UTCDateTime),
             sa.Column("finished_at", UTCDateTime),
             *now_cols(),
             sa.UniqueConstraint("event_id", "key", name="uq_steps_event_key"))
    sa.Table("registrants", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("email", sa.String(320), nullable=False),
             *(sa.Column(n, sa.Text, nullable=False, server_default="") for n in ("name", "organization", "department")),
             sa.Column("fields_json", sa.Text, nullable=False, server_default="{}"),
             sa.Column("source", sa.String(16), nullable=False, server_default="csv"),
             sa.Column("status", sa.String(16), nullable=False, server_default="active"),
             sa.Column("zoom_registrant_id", sa.String(100)),
             sa.Column("join_url", sa.Text),
             *now_cols(),
             sa.UniqueConstraint("event_id", "email", name="uq_registrants_event_email"))
    sa.Table("deliveries", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("recipient", sa.String(320), nullable=False),
             sa.Column("message_key", sa.String(100), nullable=False),
             sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
             sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
             sa.Column("last_error", sa.Text),
             sa.Column("message_id", sa.String(300)),
             *now_cols(),
             sa.Column("sent_at", UTCDateTime),
             sa.UniqueConstraint("event_id", "recipient", "message_key", name="uq_deliveries_claim"))
    sa.Table("attendance", md,
             sa.Column("id", sa.Integer, primary_key=True), event_fk(),
             sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
             sa.Column("name", sa.Text, nullable=False, server_default=""),
             sa.Column("email", sa.String(320)),
             sa.Column("total_minutes", sa.Integer, nullable=False, server_default="0"),
             sa.Column("first_join_at", UTCDateTime),
             sa.Column("last_leave_at", UTCDateTime),
             sa.Column("is_attended", sa.Boolean, nullable=False, server_default=sa.false()))
    md.create_all(conn)


def _m2_step_leases(conn: Connection) -> None:
    # Runners on several hosts claim a step by taking a lease on it.
    dt = UTCDateTime().dialect_impl(conn.dialect).impl.compile(dialect=conn.dialect)
    conn.exec_driver_sql("ALTER TABLE steps ADD COLUMN lease_owner VARCHAR(100)")
    conn.exec_driver_sql(f"ALTER TABLE steps ADD COLUMN lease_until {dt}")


def _m3_zoom_meetings(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("events", md, sa.Column("id", sa.String(100), primary_key=True))  # for the foreign key only
    sa.Table(
        "zoom_meetings", md,
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("host", sa.String(320), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("meeting_id", sa.BigInteger),
        sa.Column("uuid", sa.String(100)),
        sa.Column("join_url", sa.Text),
        sa.Column("passcode", sa.String(100)),
        sa.Column("registration_url", sa.Text),
        sa.Column("synced_hash", sa.String(64)),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    ).create(conn)


def _m4_registrants(conn: Connection) -> None:
    # Registrants: name parts for Zoom, the CSV row, why someone was cancelled, what Zoom has;
    # the host's email (never registered); when an event's personal data was purged.
    dt = UTCDateTime().dialect_impl(conn.dialect).impl.compile(dialect=conn.dialect)
    for ddl in (
        "ALTER TABLE registrants ADD COLUMN family_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE registrants ADD COLUMN given_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE registrants ADD COLUMN row_number INTEGER",
        "ALTER TABLE registrants ADD COLUMN cancel_reason VARCHAR(32)",
        "ALTER TABLE registrants ADD COLUMN zoom_status VARCHAR(16)",
        "ALTER TABLE zoom_meetings ADD COLUMN host_email VARCHAR(320)",
        f"ALTER TABLE events ADD COLUMN purged_at {dt}",
    ):
        conn.exec_driver_sql(ddl)


def _m5_delivery_retries(conn: Connection) -> None:
    # Deferred deliveries wait until next_attempt_at; resends counts deliberate repeats; an event
    # remembers its time before the last move, for the change notice.
    dt = UTCDateTime().dialect_impl(conn.dialect).impl.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE deliveries ADD COLUMN next_attempt_at {dt}")
    conn.exec_driver_sql("ALTER TABLE deliveries ADD COLUMN resends INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql(f"ALTER TABLE events ADD COLUMN previous_start_at {dt}")
    conn.exec_driver_sql(f"ALTER TABLE events ADD COLUMN previous_end_at {dt}")


def _m6_after_the_event(conn: Connection) -> None:
    # The participant report as fetched, attendance details, survey tokens and responses.
    conn.exec_driver_sql("ALTER TABLE attendance ADD COLUMN segments INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE attendance ADD COLUMN matched_by VARCHAR(16)")
    conn.exec_driver_sql("ALTER TABLE registrants ADD COLUMN survey_token VARCHAR(32)")
    md = sa.MetaData()
    sa.Table("events", md, sa.Column("id", sa.String(100), primary_key=True))
    sa.Table("registrants", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "report_rows", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("row_json", sa.Text, nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
    ).create(conn)
    sa.Table(
        "survey_responses", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
        sa.Column("email", sa.String(320)),
        sa.Column("row_number", sa.Integer),
        sa.Column("answers_json", sa.Text, nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("event_id", "registrant_id", name="uq_survey_responses_person"),
    ).create(conn)


def _m7_step_retries(conn: Connection) -> None:
    # The runner: when a step that failed for a while may run again, and whether staff were alerted.
    dt = UTCDateTime().dialect_impl(conn.dialect).impl.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE steps ADD COLUMN retry_at {dt}")
    conn.exec_driver_sql(f"ALTER TABLE steps ADD COLUMN alerted_at {dt}")
    conn.exec_driver_sql("CREATE INDEX ix_steps_state_due ON steps (state, due_at)")


def _m8_job_files(conn: Connection) -> None:
    # run-due re-applies a job file (or re-syncs its CSV) that changed since it was applied
    sa.Table(
        "job_files", sa.MetaData(),
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("csv_path", sa.Text),
        sa.Column("csv_mtime_ns", sa.BigInteger),
        sa.Column("csv_size", sa.BigInteger),
        sa.Column("applied_at", UTCDateTime, nullable=False),
    ).create(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "events, steps, registrants, deliveries, attendance", _m1_initial),
    (2, "step leases for runners on several hosts", _m2_step_leases),
    (3, "the Zoom meeting of each event", _m3_zoom_meetings),
    (4, "registrant name parts, cancellation reasons and Zoom status; purge date", _m4_registrants),
    (5, "delivery retry time and resend count; the event's previous time", _m5_delivery_retries),
    (6, "report rows, attendance details, survey tokens and responses", _m6_after_the_event),
    (7, "step retry time and alert time; an index for due steps", _m7_step_retries),
    (8, "job files and registrant CSVs as last applied", _m8_job_files),
]
HEAD = MIGRATIONS[-1][0]


"""The tables as the code uses them (SQLAlchemy Core); the revisions in `alembic/versions` build them.
Times are stored as naive UTC and come back aware (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

STEP_STATES = ("planned", "running", "done", "failed", "missed", "cancelled")


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
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
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("purged_at", UTCDateTime),
    sa.Column("previous_start_at", UTCDateTime),  # before the last move, for the change notice
    sa.Column("previous_end_at", UTCDateTime),
)

steps = sa.Table(
    "steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
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
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("retry_at", UTCDateTime),  # a transient failure waits until then (due_at stays the plan's)
    sa.Column("alerted_at", UTCDateTime),  # staff were told this step failed or was missed
    sa.UniqueConstraint("event_id", "key", name="uq_steps_event_key"),
    sa.Index("ix_steps_state_due", "state", "due_at"),
)

registrants = sa.Table(
    "registrants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("organization", sa.Text, nullable=False, server_default=""),
    sa.Column("department", sa.Text, nullable=False, server_default=""),
    sa.Column("fields_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("source", sa.String(16), nullable=False, server_default="csv"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("zoom_registrant_id", sa.String(100)),
    sa.Column("join_url", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("family_name", sa.Text, nullable=False, server_default=""),
    sa.Column("given_name", sa.Text, nullable=False, server_default=""),
    sa.Column("row_number", sa.Integer),
    sa.Column("cancel_reason", sa.String(32)),  # removed-from-csv, organizer, zoom
    sa.Column("zoom_status", sa.String(16)),  # approved, cancelled (what Zoom has)
    sa.Column("survey_token", sa.String(32)),  # the `{token}` in this person's survey link
    sa.Column("language", sa.String(8)),  # ja or en: this person's mail language (None: the seminar's)
    sa.UniqueConstraint("event_id", "email", name="uq_registrants_event_email"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("message_key", sa.String(100), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("message_id", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("next_attempt_at", UTCDateTime),  # when a deferred delivery may be tried again
    sa.Column("resends", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("event_id", "recipient", "message_key", name="uq_deliveries_claim"),
    sa.Index("ix_deliveries_event_state", "event_id", "state"),
    # and the partial index ix_deliveries_attention on state IN ('sending', 'failed'), written by revision
    # 0009 only: declared here, its `postgresql_where` would load the PostgreSQL dialect into every command
    # that opens a store, SQLite too (about 20 ms)
)

attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("email", sa.String(320)),
    sa.Column("total_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_join_at", UTCDateTime),
    sa.Column("last_leave_at", UTCDateTime),
    sa.Column("is_attended", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("segments", sa.Integer, nullable=False, server_default="0"),
    sa.Column("matched_by", sa.String(16)),  # registrant_id, email, name; None for a guest
)

report_rows = sa.Table(  # Zoom's participant rows as fetched: Zoom deletes its reports after a while
    "report_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # report, past_participants
    sa.Column("row_json", sa.Text, nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

survey_responses = sa.Table(
    "survey_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
    sa.Column("email", sa.String(320)),
    sa.Column("row_number", sa.Integer),
    sa.Column("answers_json", sa.Text, nullable=False),
    sa.Column("imported_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "registrant_id", name="uq_survey_responses_person"),
)

zoom_meetings = sa.Table(
    "zoom_meetings",
    metadata,
    sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("host", sa.String(320), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # creating, created, deleted
    sa.Column("meeting_id", sa.BigInteger),
    sa.Column("uuid", sa.String(100)),
    sa.Column("join_url", sa.Text),
    sa.Column("passcode", sa.String(100)),
    sa.Column("registration_url", sa.Text),
    sa.Column("host_email", sa.String(320)),
    sa.Column("synced_hash", sa.String(64)),
    sa.Column("recording_url", sa.Text),  # the cloud recording's share link, once Zoom has processed it
    sa.Column("recording_passcode", sa.String(100)),
    sa.Column("recording_fetched_at", UTCDateTime),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

job_files = sa.Table(
    "job_files",
    metadata,  # what each job file (and its registrants CSV) looked like when last applied
    sa.Column("path", sa.Text, primary_key=True),  # resolved
    sa.Column("event_id", sa.String(100), nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("csv_path", sa.Text),
    sa.Column("csv_mtime_ns", sa.BigInteger),
    sa.Column("csv_size", sa.BigInteger),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

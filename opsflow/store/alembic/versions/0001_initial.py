"""Events, steps, registrants, deliveries, attendance (release 0.1's migration 1)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _times() -> tuple[sa.Column, sa.Column]:
    return sa.Column("created_at", sa.DateTime, nullable=False), sa.Column("updated_at", sa.DateTime, nullable=False)


def _event_id() -> sa.Column:
    return sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("series", sa.String(200), nullable=False, server_default=""),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("start_at", sa.DateTime, nullable=False),
        sa.Column("end_at", sa.DateTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        *_times(),
    )
    op.create_table(
        "steps",
        sa.Column("id", sa.Integer, primary_key=True),
        _event_id(),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("at_expr", sa.String(200), nullable=False),
        sa.Column("after_key", sa.String(100)),
        sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("state", sa.String(16), nullable=False, server_default="planned"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
        *_times(),
        sa.UniqueConstraint("event_id", "key", name="uq_steps_event_key"),
    )
    op.create_table(
        "registrants",
        sa.Column("id", sa.Integer, primary_key=True),
        _event_id(),
        sa.Column("email", sa.String(320), nullable=False),
        *(sa.Column(n, sa.Text, nullable=False, server_default="") for n in ("name", "organization", "department")),
        sa.Column("fields_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("source", sa.String(16), nullable=False, server_default="csv"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("zoom_registrant_id", sa.String(100)),
        sa.Column("join_url", sa.Text),
        *_times(),
        sa.UniqueConstraint("event_id", "email", name="uq_registrants_event_email"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        _event_id(),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("message_key", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.String(300)),
        *_times(),
        sa.Column("sent_at", sa.DateTime),
        sa.UniqueConstraint("event_id", "recipient", "message_key", name="uq_deliveries_claim"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer, primary_key=True),
        _event_id(),
        sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.String(320)),
        sa.Column("total_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_join_at", sa.DateTime),
        sa.Column("last_leave_at", sa.DateTime),
        sa.Column("is_attended", sa.Boolean, nullable=False, server_default=sa.false()),
    )

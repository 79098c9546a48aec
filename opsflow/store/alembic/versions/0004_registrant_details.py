"""Registrant name parts, cancellation reasons and Zoom status; purge date (release 0.1's migration 4)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Registrants: name parts for Zoom, the CSV row, why someone was cancelled, what Zoom has;
    # the host's email (never registered); when an event's personal data was purged.
    op.add_column("registrants", sa.Column("family_name", sa.Text, nullable=False, server_default=""))
    op.add_column("registrants", sa.Column("given_name", sa.Text, nullable=False, server_default=""))
    op.add_column("registrants", sa.Column("row_number", sa.Integer))
    op.add_column("registrants", sa.Column("cancel_reason", sa.String(32)))
    op.add_column("registrants", sa.Column("zoom_status", sa.String(16)))
    op.add_column("zoom_meetings", sa.Column("host_email", sa.String(320)))
    op.add_column("events", sa.Column("purged_at", sa.DateTime))

"""Delivery retry time and resend count; the event's previous time (release 0.1's migration 5)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Deferred deliveries wait until next_attempt_at; resends counts deliberate repeats; an event
    # remembers its time before the last move, for the change notice.
    op.add_column("deliveries", sa.Column("next_attempt_at", sa.DateTime))
    op.add_column("deliveries", sa.Column("resends", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.add_column("events", sa.Column("previous_start_at", sa.DateTime))
    op.add_column("events", sa.Column("previous_end_at", sa.DateTime))

"""The Zoom meeting of each event (release 0.1's migration 3)."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zoom_meetings",
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
        sa.Column("lease_until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )

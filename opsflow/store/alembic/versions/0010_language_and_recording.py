"""Each registrant's mail language (blank: the seminar's), and the meeting's cloud recording once fetched."""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("registrants", sa.Column("language", sa.String(8)))
    op.add_column("zoom_meetings", sa.Column("recording_url", sa.Text))
    op.add_column("zoom_meetings", sa.Column("recording_passcode", sa.String(100)))
    op.add_column("zoom_meetings", sa.Column("recording_fetched_at", sa.DateTime))

"""Report rows, attendance details, survey tokens and responses (release 0.1's migration 6)."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The participant report as fetched, attendance details, survey tokens and responses.
    op.add_column("attendance", sa.Column("segments", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.add_column("attendance", sa.Column("matched_by", sa.String(16)))
    op.add_column("registrants", sa.Column("survey_token", sa.String(32)))
    op.create_table(
        "report_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("row_json", sa.Text, nullable=False),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(100), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("registrant_id", sa.Integer, sa.ForeignKey("registrants.id", ondelete="SET NULL")),
        sa.Column("email", sa.String(320)),
        sa.Column("row_number", sa.Integer),
        sa.Column("answers_json", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("event_id", "registrant_id", name="uq_survey_responses_person"),
    )

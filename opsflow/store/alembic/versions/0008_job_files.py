"""Job files and registrant CSVs as last applied (release 0.1's migration 8)."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # run-due re-applies a job file (or re-syncs its CSV) that changed since it was applied
    op.create_table(
        "job_files",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("csv_path", sa.Text),
        sa.Column("csv_mtime_ns", sa.BigInteger),
        sa.Column("csv_size", sa.BigInteger),
        sa.Column("applied_at", sa.DateTime, nullable=False),
    )

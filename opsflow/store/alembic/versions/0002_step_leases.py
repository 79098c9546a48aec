"""Step leases for runners on several hosts (release 0.1's migration 2)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runners on several hosts claim a step by taking a lease on it.
    op.add_column("steps", sa.Column("lease_owner", sa.String(100)))
    op.add_column("steps", sa.Column("lease_until", sa.DateTime))

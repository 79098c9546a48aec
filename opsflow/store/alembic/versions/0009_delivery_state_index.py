"""An index on deliveries by (event, state): `status` counts a seminar's deliveries from the index
instead of reading every ledger row of it."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_event_state", "deliveries", ["event_id", "state"])
    # the ledger rows somebody must look at (ambiguous or refused), found without a scan of the whole ledger
    op.create_index(
        "ix_deliveries_attention",
        "deliveries",
        ["state"],
        sqlite_where=sa.text("state IN ('sending', 'failed')"),
        postgresql_where=sa.text("state IN ('sending', 'failed')"),
    )

"""Step retry time and alert time; an index for due steps (release 0.1's migration 7)."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The runner: when a step that failed for a while may run again, and whether staff were alerted.
    op.add_column("steps", sa.Column("retry_at", sa.DateTime))
    op.add_column("steps", sa.Column("alerted_at", sa.DateTime))
    op.create_index("ix_steps_state_due", "steps", ["state", "due_at"])

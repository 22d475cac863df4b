"""Which experiment and arm served an inference, and whether its caller forced the label.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inferences", sa.Column("experiment", sa.String(64)))
    op.add_column("inferences", sa.Column("arm", sa.String(64)))
    op.add_column(
        "inferences",
        sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_inferences_experiment", "inferences", ["experiment"])


def downgrade() -> None:
    op.drop_index("ix_inferences_experiment", "inferences")
    with op.batch_alter_table("inferences") as batch:
        batch.drop_column("forced")
        batch.drop_column("arm")
        batch.drop_column("experiment")

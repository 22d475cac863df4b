"""Arms an online experiment stopped assigning because a guardrail was crossed.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arm_halts",
        sa.Column("experiment", sa.String(64), primary_key=True),
        sa.Column("arm", sa.String(64), primary_key=True),
        sa.Column("halted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("guardrail", sa.String(128), nullable=False),
        sa.Column("observed", sa.Float),
        sa.Column("bound", sa.Float, nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("arm_halts")

"""The feedback table: what callers said about an inference or an episode.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inference_id", sa.String(36)),
        sa.Column("episode_id", sa.String(128)),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("prompt", sa.String(128)),
        sa.Column("prompt_version", sa.Integer),
        sa.UniqueConstraint("caller", "idempotency_key", name="uq_feedback_caller_key"),
    )
    op.create_index("ix_feedback_inference_id", "feedback", ["inference_id"])
    op.create_index("ix_feedback_episode_id", "feedback", ["episode_id"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("feedback")

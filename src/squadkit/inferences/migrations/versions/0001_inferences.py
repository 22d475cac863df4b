"""The inferences table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inferences",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("feature", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(128)),
        sa.Column("episode_id", sa.String(128)),
        sa.Column("prompt", sa.String(128)),
        sa.Column("prompt_version", sa.Integer),
        sa.Column("prompt_label", sa.String(64)),
        sa.Column("prompt_hash", sa.String(128)),
        sa.Column("alias", sa.String(128)),
        sa.Column("deployment", sa.String(256)),
        sa.Column("fallback_used", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("scores", sa.JSON),
        sa.Column("inputs_sha256", sa.String(64)),
        sa.Column("inputs_chars", sa.Integer),
        sa.Column("inputs", sa.Text),
        sa.Column("output_sha256", sa.String(64)),
        sa.Column("output_chars", sa.Integer),
        sa.Column("output", sa.Text),
    )
    op.create_index("ix_inferences_created_at", "inferences", ["created_at"])
    op.create_index("ix_inferences_episode_id", "inferences", ["episode_id"])


def downgrade() -> None:
    op.drop_table("inferences")

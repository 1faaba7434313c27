"""Flood guard: message counts per sender and window (storage/flood.py); reports per person
are counted on ``reportjob``, which gets an index for it.

Revision ID: 0013f
Revises: 0012
Create Date: 2026-12-02 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013f"
down_revision = "0013k"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "floodwindow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("window_start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "kind"),
    )
    op.create_index("ix_reportjob_official_at", "reportjob", ["official_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reportjob_official_at", table_name="reportjob")
    op.drop_table("floodwindow")

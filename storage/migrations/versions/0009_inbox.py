"""The webhook inbox (storage/inbox.py): updates stored before the 200, applied after.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inboxupdate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_key", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("processed_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "update_key"),
    )
    op.create_index("ix_inboxupdate_channel", "inboxupdate", ["channel"])
    op.create_index("ix_inboxupdate_processed_at", "inboxupdate", ["processed_at"])


def downgrade() -> None:
    op.drop_table("inboxupdate")

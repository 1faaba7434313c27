"""The Zalo OA's rotating token pair (storage/oa_tokens.py).

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-02 07:00:00

One row per OA app: the live access and refresh tokens, their generation (the
compare-and-swap key of a refresh) and a short refresh lease.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oatoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.String(length=2048), nullable=False),
        sa.Column("refresh_token", sa.String(length=2048), nullable=False),
        sa.Column("access_expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("refresh_claimed_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("needs_reauthorization", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id"),
    )


def downgrade() -> None:
    op.drop_table("oatoken")

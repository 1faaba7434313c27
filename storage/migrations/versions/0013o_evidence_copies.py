"""Evidence copies: Zalo's photo links expire, so the bot keeps a copy under data_dir.

``evidence.stored_path`` is the copy (relative to data_dir); ``evidence.fetch_error`` says why
there is none ("too_big", "not_image", "unreachable") while the official's message is still
recorded.

Revision ID: 0013o
Revises: 0012
Create Date: 2026-12-02 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013o"
down_revision = "0013f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stored_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("fetch_error", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("fetch_error")
        batch_op.drop_column("stored_path")

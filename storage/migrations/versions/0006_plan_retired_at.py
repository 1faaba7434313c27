"""Plans can be retired: ``plan.retired_at``.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-02 07:00:00

A retired plan (``papi-bot plans retire ID``) keeps its tasks, assignments and history for
the reports of past periods, but its tasks leave the officials' lists and get no more
reminders, escalations or digest lines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("retired_at")

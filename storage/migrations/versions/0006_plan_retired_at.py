"""Plans can be retired: ``plan.retired_at``; notes are told from statuses:
``progressupdate.note_only``.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-02 07:00:00

A retired plan (``papi-bot plans retire ID``) keeps its tasks, assignments and history for
the reports of past periods, but its tasks leave the officials' lists and get no more
reminders, escalations or digest lines. A note added while a task is blocked is a note
(``note_only``): the reports of past periods keep the blocking reason, not the note.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", storage.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("progressupdate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("note_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("progressupdate", schema=None) as batch_op:
        batch_op.drop_column("note_only")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("retired_at")

"""Indexes for the roll-up on PostgreSQL and for the digests' undelivered messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:10:00

- ``unit.path`` is re-created with ``text_pattern_ops`` on PostgreSQL, whose default
  collation cannot serve the subtree filter ``path LIKE '/1/7/%'`` from a plain index
  (SQLite gets the same plain index back).
- ``outboxmessage (status, created_at)``: the weekly digest lists the messages that failed
  or could not be delivered during the week.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_path")
        batch_op.create_index(
            "ix_unit_path", ["path"], unique=False, postgresql_ops={"path": "text_pattern_ops"}
        )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_created", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_created")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_path")
        batch_op.create_index("ix_unit_path", ["path"], unique=False)

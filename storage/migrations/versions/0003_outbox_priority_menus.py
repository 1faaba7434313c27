"""Outbox priority and claim column; the numbered menus of channels without buttons.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:00:00

- ``outboxmessage.priority``: replies to an inbound message go before reminders and
  digests (``OUTBOX_PRIORITY_REPLY`` > ``OUTBOX_PRIORITY_BROADCAST``), indexed with status.
- ``outboxmessage.claimed_at``: a send in flight, instead of the old marker
  ``last_error = 'claimed: sending'`` (rows carrying the marker are converted).
- ``chatmenu``: the numbered menu last shown in a chat, and the one before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD_MARKER = "claimed: sending"


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_outbox_priority", ["status", "priority", "id"], unique=False)
    outbox = sa.table(
        "outboxmessage",
        sa.column("last_error", sa.String()),
        sa.column("claimed_at", storage.types.UTCDateTime()),
        sa.column("next_attempt_at", storage.types.UTCDateTime()),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.last_error == _OLD_MARKER)
        .values(claimed_at=outbox.c.next_attempt_at, last_error=None)
    )
    op.create_table(
        "chatmenu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("shown_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("previous_items", sa.JSON(), nullable=False),
        sa.Column("previous_message_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id"),
    )


def downgrade() -> None:
    op.drop_table("chatmenu")
    outbox = sa.table(
        "outboxmessage",
        sa.column("last_error", sa.String()),
        sa.column("claimed_at", storage.types.UTCDateTime()),
    )
    op.execute(
        outbox.update().where(outbox.c.claimed_at.is_not(None)).values(last_error=_OLD_MARKER)
    )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_priority")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("priority")

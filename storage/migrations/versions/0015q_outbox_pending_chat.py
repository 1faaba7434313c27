"""A partial index of the outbox's pending rows per chat (issue 11, status replies).

``ix_outbox_pending_chat`` (channel, chat_id, id) WHERE status = 'pending': the answer to an
inbound message asks, in its own transaction, whether its chat has an earlier pending row
(``storage.queue.first_in_chats``). A chat has a handful of pending rows and thousands of sent
ones; the index holds only the pending ones.

Revision ID: 0015q
Revises: 0014r
Create Date: 2026-12-02 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015q"
down_revision = "0014r"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_pending_chat",
        "outboxmessage",
        ["channel", "chat_id", "id"],
        unique=False,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_chat", table_name="outboxmessage")

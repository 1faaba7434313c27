"""Leaner outbox indexes (issue 11, status replies): each answer writes one outbox row, and
every index it enters is written again when it is sent.

- ``ix_outbox_chat`` (channel, chat_id, id) is dropped: every query by chat asks for pending
  rows (``ix_outbox_pending_chat``) or for an external message id (``ix_outbox_external``).
- ``ix_outbox_due`` (status, next_attempt_at) and ``ix_outbox_priority`` (status, priority,
  id) hold only the pending rows (``WHERE status = 'pending'``), the only ones their queries
  ask for: a "sent" now removes their entries instead of rewriting them, and they stay the
  size of the queue, not of the whole history. They keep ``status`` first: a planner
  without statistics then prefers them to ``ix_outbox_status_created``.
- ``ix_outbox_external`` holds only the rows that have an external message id (a sent
  one): a new row no longer enters it.
- ``ix_outbox_status_created`` stays: the digest, the health page, retention and the
  channels' monthly quotas read it.

Revision ID: 0016
Revises: 0015q
Create Date: 2026-12-03 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015q"
branch_labels = None
depends_on = None

_TABLE = "outboxmessage"
_PENDING = sa.text("status = 'pending'")
_EXTERNAL = sa.text("external_message_id IS NOT NULL")


def _partial(name: str, columns: list[str], where: sa.TextClause) -> None:
    op.create_index(name, _TABLE, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    for name in ("ix_outbox_chat", "ix_outbox_due", "ix_outbox_priority", "ix_outbox_external"):
        op.drop_index(name, table_name=_TABLE)
    _partial("ix_outbox_due", ["status", "next_attempt_at"], _PENDING)
    _partial("ix_outbox_priority", ["status", "priority", "id"], _PENDING)
    _partial("ix_outbox_external", ["channel", "chat_id", "external_message_id"], _EXTERNAL)


def downgrade() -> None:
    for name in ("ix_outbox_due", "ix_outbox_priority", "ix_outbox_external"):
        op.drop_index(name, table_name=_TABLE)
    op.create_index("ix_outbox_due", _TABLE, ["status", "next_attempt_at"])
    op.create_index("ix_outbox_chat", _TABLE, ["channel", "chat_id", "id"])
    op.create_index("ix_outbox_external", _TABLE, ["channel", "chat_id", "external_message_id"])
    op.create_index("ix_outbox_priority", _TABLE, ["status", "priority", "id"])

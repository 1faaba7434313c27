"""One person, several channels: ``channelidentity.last_inbound_at`` (when the official last
wrote from that account) and ``official.preferred_channel`` (their /kenh choice).

Revision ID: 0013k
Revises: 0012
Create Date: 2026-12-02 12:00:00

A message to an official is one outbox row, in the channel they chose or else the one they
last wrote from (``bot.routing``). Existing identities start without a time: until the
official writes again, the oldest link is the one written to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013k"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channelidentity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_inbound_at", storage.types.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_channel", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.drop_column("preferred_channel")
    with op.batch_alter_table("channelidentity", schema=None) as batch_op:
        batch_op.drop_column("last_inbound_at")
